"""A translation job: many inputs through one pipeline, bad inputs reported, not fatal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from corpus.errors import InputError
from corpus.ingest import STDIN, read_document
from corpus.types import Document, Segment
from translate.pipeline import DocumentResult, Pipeline
from translate.segment import segment


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


def run_job(pipeline: Pipeline, sources: Sequence[str],
            on_result: Callable[[int, DocumentResult], None],
            on_total: Callable[[int], None] = lambda n: None,
            report: JobReport | None = None) -> JobReport:
    """Translate each source in turn; `on_result(number, result)` sees each finished document.

    All inputs are read and segmented first, so that `on_total` learns the number of sentences
    before any translation starts (for the progress bar) and unreadable files are known early.
    A file that cannot be read is recorded in `report.failed` and the others go on.
    """
    report = report or JobReport()
    documents: list[tuple[int, Document, list[Segment]]] = []
    for number, source in enumerate(sources, start=1):
        try:
            document = read_source(source)
        except InputError as exc:
            report.failed.append(str(exc))
            continue
        documents.append((number, document, segment(document.text)))
    on_total(sum(len(segments) for _, _, segments in documents))
    for number, document, segments in documents:
        report.current = document.path
        result = pipeline.translate_document(document, segments)
        report.current = ""
        if result.doc_id is None:  # no archive, so no ids: number the inputs instead
            result.pairs = [replace(p, doc=number) for p in result.pairs]
        report.documents += 1
        report.sentences += len(result.pairs)
        report.reused += result.reused
        on_result(number, result)
    return report
