"""A translation job: many inputs through one pipeline, bad inputs reported, not fatal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from corpus.errors import InputError
from corpus.ingest import STDIN, read_document
from corpus.types import Document, Segment
from translate.pipeline import DocumentResult, Pipeline
from translate.segment import paragraphs, segment

# A longer document is translated and stored in parts cut between paragraphs, each an archive
# document of its own: a crash or Ctrl-C loses at most the part in progress, and only one part's
# sentences are held in memory at a time.
PART_CHARS = 200_000


@dataclass
class JobReport:
    """What a job did so far; kept up to date, so it is accurate even after an interrupt."""

    documents: int = 0
    sentences: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    current: str = ""  # the input being translated, "" between inputs


def read_source(source: str) -> Document:
    if source == STDIN:
        return read_document("<stdin>", sys.stdin.buffer.read())
    return read_document(source)


def split_parts(document: Document, part_chars: int = PART_CHARS) -> Iterator[Document]:
    """The document itself when short; else parts of at most `part_chars` characters made of
    whole paragraphs (a longer paragraph is a part alone), titled "title (part k/n)"."""
    if len(document.text) <= part_chars:
        yield document
        return
    spans: list[tuple[int, int]] = []  # (start, end) of each part in the text
    for start, end in paragraphs(document.text):
        if spans and end - spans[-1][0] <= part_chars:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    for k, (start, end) in enumerate(spans, start=1):
        yield replace(document, title=f"{document.title} (part {k}/{len(spans)})",
                      text=document.text[start:end],
                      metadata={**document.metadata, "part": k, "parts": len(spans),
                                "offset": start})


def run_job(pipeline: Pipeline, sources: Sequence[str],
            on_result: Callable[[int, DocumentResult], None],
            on_total: Callable[[int], None] = lambda n: None,
            report: JobReport | None = None, part_chars: int | None = None) -> JobReport:
    """Translate each source in turn; `on_result(number, result)` sees each finished document
    (each part of a long one, see `split_parts`, with the number of its input).

    All inputs are read and segmented first, so that `on_total` learns the number of sentences
    before any translation starts (for the progress bar) and unreadable files are known early;
    the sentences of long documents are counted, then segmented again part by part.
    A file that cannot be read is recorded in `report.failed` and the others go on.
    """
    report = report or JobReport()
    part_chars = part_chars or PART_CHARS
    documents: list[tuple[int, Document, list[Segment] | None]] = []
    total = 0
    for number, source in enumerate(sources, start=1):
        try:
            document = read_source(source)
        except InputError as exc:
            report.failed.append(str(exc))
            continue
        if len(document.text) <= part_chars:
            segments = segment(document.text)
            total += len(segments)
            documents.append((number, document, segments))
        else:
            total += sum(len(segment(part.text)) for part in split_parts(document, part_chars))
            documents.append((number, document, None))
    on_total(total)
    for number, whole, segments in documents:
        for document in split_parts(whole, part_chars):
            report.current = document.path if segments is not None else (
                f"{document.path} (part {document.metadata['part']}/"
                f"{document.metadata['parts']})")
            result = pipeline.translate_document(
                document, segment(document.text) if segments is None else segments)
            report.current = ""
            _finished(number, result, report, on_result)
    return report


def _finished(number: int, result: DocumentResult, report: JobReport,
              on_result: Callable[[int, DocumentResult], None]) -> None:
    if result.doc_id is None:  # no archive, so no ids: number the inputs instead
        result.pairs = [replace(p, doc=number) for p in result.pairs]
    report.documents += 1
    report.sentences += len(result.pairs)
    report.reused += result.reused
    on_result(number, result)
