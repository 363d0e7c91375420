"""A translation job: many inputs through one pipeline, bad inputs reported, not fatal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from corpus.errors import InputError
from corpus.fetch import is_url
from corpus.ingest import STDIN, LongDocument, open_source, read_document, read_parts
from corpus.parts import split_parts
from corpus.sources import PART_CHARS, Failed, Skipped, SourceOptions
from corpus.sources import read_source as read_input
from corpus.store import Archive
from corpus.types import Document, Segment
from translate.pipeline import DocumentResult, Pipeline
from translate.segment import segment

# A longer document is translated and stored in parts cut between paragraphs, each an archive
# document of its own: a crash or Ctrl-C loses at most the part in progress, and only one part's
# text and sentences are held in memory at a time (a long file is read in chunks, see
# `corpus.ingest.read_parts`). The number is `corpus.sources.PART_CHARS`.


@dataclass
class JobReport:
    """What a job did so far; kept up to date, so it is accurate even after an interrupt."""

    documents: int = 0
    sentences: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # URLs the archive already has
    current: str = ""  # the input being translated, "" between inputs


def read_source(source: str, part_chars: int = PART_CHARS) -> Document | LongDocument:
    """A file, read whole or, if longer than a part, checked and counted (`open_source`).
    stdin is read whole: it cannot be read twice, and both passes are needed to refuse a bad
    file before any of it is stored."""
    if source == STDIN:
        return read_document("<stdin>", sys.stdin.buffer.read())
    return open_source(source, part_chars)


def run_job(pipeline: Pipeline, sources: Sequence[str],
            on_result: Callable[[int, DocumentResult], None],
            on_total: Callable[[int], None] = lambda n: None,
            report: JobReport | None = None, part_chars: int | None = None,
            options: SourceOptions | None = None) -> JobReport:
    """Translate each source in turn; `on_result(number, result)` sees each finished document
    (each part of a long one, see `split_parts`, with the number of its input).

    All inputs are read and segmented first, so that `on_total` learns the number of sentences
    before any translation starts (for the progress bar) and unreadable files, a long file
    that mixes encodings half-way through included, are known before anything of them is
    stored. Short inputs keep their sentences; long ones are counted part by part and
    forgotten, then read again part by part to be translated, so memory does not grow with
    their size. A file that cannot be read is recorded in `report.failed` and the others go on.

    An input may be a URL or a feed (`corpus.sources.read_source`, with `options`); a URL the
    pipeline's archive already has is recorded in `report.skipped`, not fetched again. Each
    document read (each item of a feed) is numbered on its own.
    """
    report = report or JobReport()
    inputs = read_inputs(sources, report, on_total, pipeline.archive, part_chars, options)
    for number, document, segments in documents(inputs, report, part_chars):
        result = pipeline.translate_document(document, segments)
        report.current = ""
        finished(number, result, report, on_result)
    return report


@dataclass(frozen=True)
class Reread:
    """A short file counted in the first pass and read again when its turn comes
    (`read_inputs(hold=False)`): a run over a million files does not hold all their text."""

    source: str


Input = tuple[int, Document | LongDocument | Reread, list[Segment] | None]
"""An input's number, its document (or long file, read again part by part; or short file, read
again whole) and, for a short one held, its sentences."""


def read_inputs(sources: Sequence[str | Document], report: JobReport,
                on_total: Callable[[int], None],
                archive: Archive | None, part_chars: int | None = None,
                options: SourceOptions | None = None, hold: bool = True) -> list[Input]:
    """Every source read and segmented (counted, for a long one), the failures recorded in
    `report`, `on_total` told the number of sentences (see `run_job`). With `hold=False`, a
    local file that is one short document is not held either: `documents` reads it again. A
    source may be a Document already read (a row of a `--ray` manifest, `translate.cluster`)."""
    part_chars = part_chars or PART_CHARS
    options = replace(options or SourceOptions(), part_chars=part_chars)
    known_url = archive.document_with_url if archive is not None else (lambda url: None)
    inputs: list[Input] = []
    total = 0
    for source in sources:
        items: list[Document | LongDocument | Skipped | Failed] = []
        if isinstance(source, Document):  # read already, and held: it may be no file
            items.append(source)
            source, again = source.path, False
        try:
            if not items:
                items.extend(read_input(source, options, known_url))
                again = (not hold and source != STDIN and not is_url(source)
                         and len(items) == 1)
        except InputError as exc:  # what was read before the error is translated
            report.failed.append(str(exc))
            again = False
        for item in items:
            if isinstance(item, Skipped):
                report.skipped.append(item)
            elif isinstance(item, Failed):
                report.failed.append(item.message)
            elif isinstance(item, Document) and len(item.text) <= part_chars:
                segments = segment(item.text)
                total += len(segments)
                inputs.append((len(inputs) + 1, Reread(source), None) if again else
                              (len(inputs) + 1, item, segments))
            else:
                total += sum(len(segment(part.text)) for part in _parts(item, part_chars))
                inputs.append((len(inputs) + 1, item, None))
    on_total(total)
    return inputs


def documents(inputs: Sequence[Input], report: JobReport, part_chars: int | None = None,
              options: SourceOptions | None = None
              ) -> Iterator[tuple[int, Document, list[Segment]]]:
    """The documents to translate in order, each with its input's number and its sentences: a
    long input's parts read from disk one at a time, a file not held read again (with
    `options`, as `read_inputs` read it). `report.current` names the one yielded last; a file
    that cannot be read again is recorded in `report.failed`."""
    part_chars = part_chars or PART_CHARS
    options = replace(options or SourceOptions(), part_chars=part_chars)
    for number, item, segments in inputs:
        try:
            parts = _parts(_read_again(item, options), part_chars)
        except InputError as exc:  # the file changed or went since it was read first
            report.failed.append(str(exc))
            continue
        while True:
            try:
                document = next(parts, None)
            except InputError as exc:  # the file changed since it was read first
                report.failed.append(str(exc))
                break
            if document is None:
                break
            report.current = document.path if "part" not in document.metadata else (
                f"{document.path} (part {document.metadata['part']}/"
                f"{document.metadata['parts']})")
            yield number, document, segment(document.text) if segments is None else segments


def _read_again(item: Document | LongDocument | Reread, options: SourceOptions
                ) -> Document | LongDocument:
    if not isinstance(item, Reread):
        return item
    for again in read_input(item.source, options):
        if isinstance(again, Document | LongDocument):
            return again
    raise InputError(f"{item.source}: no longer a document.")


def _parts(item: Document | LongDocument, part_chars: int) -> Iterator[Document]:
    """A document whole or in parts, a long file's read from disk one at a time."""
    return read_parts(item) if isinstance(item, LongDocument) else split_parts(item, part_chars)


def finished(number: int, result: DocumentResult, report: JobReport,
              on_result: Callable[[int, DocumentResult], None]) -> None:
    if result.doc_id is None:  # no archive, so no ids: number the inputs instead
        result.pairs = [replace(p, doc=number) for p in result.pairs]
    report.documents += 1
    report.sentences += len(result.pairs)
    report.reused += result.reused
    on_result(number, result)
