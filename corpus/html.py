"""HTML pages given as source files: telling them from text, and reducing them to their text:
the main text of a page (trafilatura), or all of its text (`html_to_text`, `--html all`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from itertools import chain

from corpus.errors import InputError

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


# ---------------------------------------------------------------------------------------------
# The main text of a page (trafilatura)
# ---------------------------------------------------------------------------------------------

HTML_MODES = ("article", "all")  # the page's main text (trafilatura) | all of its text
HtmlMode = str
# A main text has a sentence: a paragraph of this many words or one ending like a sentence.
# What trafilatura returns from a page without an article is its menu ("Политика\nСпорт").
_MIN_WORDS = 5
_SENTENCE_END = re.compile(r"[.!?…»”\"]\s*$")
_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
# Metadata trafilatura reads from meta tags, JSON-LD and the page itself, by our names.
_METADATA = (("title", "title"), ("author", "author"), ("published", "date"),
             ("site", "sitename"), ("url", "url"), ("description", "description"))


def is_html_document(text: str) -> bool:
    """A whole page (doctype, <html> or <body>), not a fragment: there is boilerplate to drop
    only in a page; a fragment is all text (`html_to_text`)."""
    return bool(_HTML_DOCUMENT.search(text[:_SNIFFED]))


def extract_article(html: str, name: str, url: str | None = None
                    ) -> tuple[str, dict[str, str]]:
    """The main text of a web page, without menus, rubric lists, cookie notices, related links,
    comments and footer, its paragraphs separated by blank lines, headed by its title; and the
    page's metadata (title, author, published, site, url, description, language), those found.
    Raises InputError naming `name` when the page has no main text."""
    import trafilatura  # about 0.5 s to import: only when a page is read

    quiet = logging.getLogger("trafilatura")
    if quiet.level == logging.NOTSET:  # its warnings ("discarding data") are ours to say
        quiet.setLevel(logging.ERROR)
    found = trafilatura.bare_extraction(html, url=url, with_metadata=True,
                                        include_comments=False, include_tables=True)
    paragraphs = [" ".join(line.split()) for line in (found.text or "").splitlines()
                  if line.strip()] if found else []
    if not any(len(p.split()) >= _MIN_WORDS or _SENTENCE_END.search(p) for p in paragraphs):
        raise InputError(f"{name}: no main text found in this page; `--html all` translates "
                         "all of its text instead.")
    metadata = {key: " ".join(str(value).split()) for key, attribute in _METADATA
                if (value := getattr(found, attribute, None))}
    if language := _LANG.search(html[:_SNIFFED]):
        metadata["language"] = language.group(1).lower()
    title = metadata.get("title", "")
    if title and paragraphs[0] != title:
        paragraphs.insert(0, title)  # the headline is translated too
    return "\n\n".join(paragraphs), metadata
