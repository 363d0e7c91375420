"""HTML pages given as source files: telling them from text, and reducing them to their text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from itertools import chain

_SNIFFED = 8192  # leading characters looked at for tags

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HTML_DOCUMENT = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?(?:p|div|br|span|a|h[1-6]|li|ul|ol|table|tr|td|article|section"
                       r"|strong|em|b|i|blockquote|head|title|meta)\b[^>]*>", re.IGNORECASE)
BLOCK_TAGS = frozenset({
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr",
    "article", "section", "blockquote", "header", "footer", "main", "aside", "figure",
    "figcaption", "pre", "hr", "dt", "dd", "title"})
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


def looks_like_html(text: str, name: str = "") -> bool:
    """An `.html` file, a whole HTML document, or text that starts with a tag and has several
    (so that Markdown with one `<br>` stays Markdown)."""
    if name.lower().endswith(_HTML_SUFFIXES) or _HTML_DOCUMENT.search(text[:_SNIFFED]):
        return True
    return text.lstrip().startswith("<") and len(_HTML_TAG.findall(text[:_SNIFFED])) >= 2


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[str]] = [[]]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.paragraphs.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.paragraphs.append([])

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.paragraphs[-1].append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML page: scripts and styles dropped, entities resolved, each
    block element (p, div, br, headings, list items, ...) a paragraph of its own, whitespace
    inside a paragraph collapsed to single spaces. No layout beyond that."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "\n\n".join(_texts_of(parser.paragraphs))


def _texts_of(paragraphs: Iterable[list[str]]) -> Iterator[str]:
    """The paragraphs that have text, whitespace collapsed."""
    return (text for parts in paragraphs if (text := " ".join("".join(parts).split())))


def html_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """`html_to_text` of HTML fed in pieces, in pieces: the paragraphs finished by each piece
    (HTMLParser is incremental; only the paragraph still open is kept)."""
    parser = _TextExtractor()
    started = False
    for piece in chain(pieces, [None]):
        if piece is None:
            parser.close()
            finished, parser.paragraphs = parser.paragraphs, []
        else:
            parser.feed(piece)
            finished, parser.paragraphs = parser.paragraphs[:-1], parser.paragraphs[-1:]
        texts = list(_texts_of(finished))
        if texts:
            # one piece per piece fed, not one per paragraph: the part cutter copies its
            # buffer on every piece it is given
            yield ("\n\n" if started else "") + "\n\n".join(texts)
            started = True
