"""Cutting a long document into parts between paragraphs: each part is translated and stored
as an archive document of its own, so that a crash loses at most one part and memory holds one
part at a time."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING

from corpus.types import Document

if TYPE_CHECKING:
    from corpus.ingest import LongDocument

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
_SPACES = re.compile(r"[ \t]*")


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph. With blank lines in the text, they separate paragraphs
    (single newlines are soft wraps); without any, every line is a paragraph."""
    separator = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE
    position = 0
    for match in separator.finditer(text):
        yield position, match.start()
        position = match.end()
    yield position, len(text)


# A paragraph longer than this many parts is cut into parts, so that a part always fits in
# memory (it may be a whole book without a blank line); a shorter one longer than a part is a
# part alone, as it always was.
MAX_PARAGRAPH_PARTS = 5
# Where such a paragraph is cut, best first: at a line break, at a space after a sentence, at
# any space; else anywhere. Each matches the one character that the cut drops.
_CUTS = (re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s|(?<=[.!?…][»”\")])\s"),
         re.compile(r"\s"))


def _cut(window: str, limit: int) -> tuple[int, int]:
    """Where to cut a paragraph that starts `window`: (end of the piece cut off, start of the
    rest), the piece at most `limit` characters long."""
    for pattern in _CUTS:
        if last := deque(pattern.finditer(window, 1, limit + 1), maxlen=1):
            return last[0].start(), last[0].end()
    return limit, limit


class PartCutter:
    """Cuts a text into parts: (offset, text) of runs of whole paragraphs at most `part_chars`
    long; a longer paragraph is a part alone, one longer than MAX_PARAGRAPH_PARTS parts is cut
    into parts at most `part_chars` long (see `_CUTS`).

    The text is fed in pieces, and how it is divided never changes the parts: fed whole, this
    cuts a document in memory (`split_parts`); fed piece by piece, a file read in chunks
    (`read_parts`), holding one part and the paragraph that follows it."""

    def __init__(self, part_chars: int, blank_lines: bool) -> None:
        self.part_chars = part_chars
        self.separator = _BLANK_LINE if blank_lines else _LINE
        self.text = ""  # the text from `base` on: the part being gathered and what follows it
        self.base = 0
        self.span: tuple[int, int] | None = None  # (start, end) of the part being gathered
        self.paragraph = 0  # where the paragraph being read starts
        self.cutting = False  # that paragraph is too long to keep: cut it into parts
        self.scan = 0  # no separator starts between `paragraph` and here
        self.separators = 0  # found so far

    def feed(self, piece: str) -> Iterator[tuple[int, str]]:
        self.text += piece
        while match := self.separator.search(self.text, self.scan - self.base):
            start, end = self.base + match.start(), self.base + match.end()
            self.separators += 1
            yield from self._paragraph(start)
            self.paragraph = self.scan = end
            self.cutting = False
        # A blank line may begin at the last line break if only spaces follow it so far.
        newline = self.text.rfind("\n", self.paragraph - self.base)
        if newline >= 0 and _SPACES.fullmatch(self.text, newline + 1):
            self.scan = self.base + newline
        else:
            self.scan = self.base + len(self.text)
        yield from self._cut_long(self.scan)
        keep = self.span[0] if self.span else self.paragraph
        self.text, self.base = self.text[keep - self.base:], keep

    def close(self) -> Iterator[tuple[int, str]]:
        yield from self._paragraph(self.base + len(self.text))
        yield from self._flush()

    def _paragraph(self, end: int) -> Iterator[tuple[int, str]]:
        """The paragraph being read ends at `end`."""
        yield from self._cut_long(end)
        if self.span and end - self.span[0] <= self.part_chars:
            self.span = (self.span[0], end)
        else:
            yield from self._flush()
            self.span = (self.paragraph, end)

    def _cut_long(self, end: int) -> Iterator[tuple[int, str]]:
        """Once what is known of the paragraph being read (up to `end`) is longer than
        MAX_PARAGRAPH_PARTS parts, cut parts off it until what is left fits in one. Only the
        next part_chars decide where, so cutting while it is read or once it is whole cuts it
        at the same places."""
        while end - self.paragraph > (self.part_chars if self.cutting
                                      else MAX_PARAGRAPH_PARTS * self.part_chars):
            self.cutting = True
            yield from self._flush()
            start = self.paragraph - self.base
            piece, rest = _cut(self.text[start:start + self.part_chars + 1], self.part_chars)
            yield self.paragraph, self.text[start:start + piece]
            self.paragraph += rest

    def _flush(self) -> Iterator[tuple[int, str]]:
        """The part gathered so far, if any."""
        if self.span:
            (start, end), self.span = self.span, None
            yield start, self.text[start - self.base:end - self.base]


def split_parts(document: Document, part_chars: int) -> Iterator[Document]:
    """The document itself when short; else parts of at most `part_chars` characters made of
    whole paragraphs (see `PartCutter`), titled "title (part k/n)", with "part", "parts" and
    "offset" (in the document's text) in their metadata. `read_parts` cuts a long file the
    same way without holding it."""
    if len(document.text) <= part_chars:
        yield document
        return
    cutter = PartCutter(part_chars, blank_lines=bool(_BLANK_LINE.search(document.text)))
    spans = [(offset, offset + len(text))
             for offset, text in chain(cutter.feed(document.text), cutter.close())]
    for k, (start, end) in enumerate(spans, start=1):
        yield part_of(document, k, len(spans), start, document.text[start:end])


def part_of(whole: Document | LongDocument, k: int, n: int, offset: int, text: str) -> Document:
    return Document(path=whole.path, title=f"{whole.title} (part {k}/{n})", text=text,
                    metadata={**whole.metadata, "part": k, "parts": n, "offset": offset})
