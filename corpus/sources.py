"""One entry point for every kind of input: `read_source` turns a file, a folder's file, stdin,
a URL or a feed into documents, so that the pipeline never knows where text came from.

What decides the reader, first match wins:
- `-`: stdin, its bytes judged as a file's are;
- `http://`, `https://`: fetched (`corpus.fetch`), then judged by its bytes and Content-Type;
- a file: `.docx` (`corpus.word`), `.pdf` (`corpus.pdf`), a feed (`.rss`, `.atom`, or XML
  starting with `<rss`/`<feed`, `corpus.feed`), else text or HTML (`corpus.ingest`).
A feed yields one document per item: the item's own full text when the feed carries it, else
its link fetched and extracted. A URL (an input or a feed item's link) already in the archive
is skipped, not fetched again, unless `refetch`.

Every document carries its metadata: `url` (as asked for), `final_url` (after redirects, when
different), `host`, `site` (the site's name, else the feed's title, else the host), `title`,
`author`, `published` (YYYY-MM-DD), `language`, `encoding`, `declared_encoding` (what the server
said, when the bytes said otherwise the bytes win: `corpus.encoding.detect`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corpus.errors import InputError
from corpus.feed import Feed, FeedItem, looks_like_feed, parse_feed
from corpus.fetch import Fetched, FetchSettings, fetch, is_url
from corpus.html import HtmlMode
from corpus.ingest import (
    STDIN,
    LongDocument,
    document_of,
    open_source,
    read_document,
    read_parts,
)
from corpus.pdf import read_pdf
from corpus.types import Document
from corpus.word import read_docx

PART_CHARS = 200_000  # a longer text is translated and stored in parts (translate.job)
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml",
                         "application/x-rss+xml"})
_XML_TYPES = frozenset({"application/xml", "text/xml"})  # a feed, or XHTML
_TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "text/markdown",
                         "application/octet-stream"})  # octet-stream: servers that do not know
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class SourceOptions:
    html: HtmlMode = "article"  # a web page's main text | "all" of its text
    fetch: FetchSettings = field(default_factory=FetchSettings)
    refetch: bool = False  # fetch URLs already in the archive again
    part_chars: int = PART_CHARS  # a longer text file is read in parts (`open_source`)


@dataclass(frozen=True)
class Skipped:
    """An input not read because the archive has it (`doc` is its document there)."""

    source: str
    doc: int


@dataclass(frozen=True)
class Failed:
    """One item of a feed that could not be read; the feed's other items go on."""

    message: str


KnownUrl = Callable[[str], int | None]  # the archive document already fetched from a URL


def read_source(source: str, options: SourceOptions = SourceOptions(),
                known_url: KnownUrl = lambda url: None
                ) -> Iterator[Document | LongDocument | Skipped | Failed]:
    """The documents of one input (one for a file or page, one per item for a feed). Raises
    InputError naming the input when it cannot be read at all; a feed item that cannot is
    yielded as `Failed` and the others are still read."""
    if source == STDIN:
        yield from _from_bytes(sys.stdin.buffer.read(), "<stdin>", options, known_url)
    elif is_url(source):
        if not options.refetch and (doc := known_url(source)) is not None:
            yield Skipped(source, doc)
            return
        yield from _from_url(fetch(source, options.fetch), options, known_url)
    elif _suffix(source) in (".docx", ".pdf") or _is_feed_file(source):
        yield from _from_bytes(_read_file(source), source, options, known_url)
    else:
        yield open_source(source, options.part_chars, options.html)


def read_texts(source: str, options: SourceOptions = SourceOptions()) -> Iterator[str]:
    """The text of each document of one input as `read_source` reads it (a page's article, a
    feed's items, a document's paragraphs), a long file part by part: for commands that look
    at text without storing it (`ruen glossary check`). A feed item that cannot be read is an
    InputError here, since there is no archive to keep the others in."""
    for item in read_source(source, options):
        if isinstance(item, LongDocument):
            yield from (part.text for part in read_parts(item))
        elif isinstance(item, Failed):
            raise InputError(item.message)
        elif isinstance(item, Document):
            yield item.text


def _from_bytes(data: bytes, name: str, options: SourceOptions, known_url: KnownUrl,
                url: str | None = None) -> Iterator[Document | Skipped | Failed]:
    suffix = _suffix(name)
    if suffix == ".pdf" or data.startswith(_PDF_MAGIC):
        if not data.startswith(_PDF_MAGIC):
            raise InputError(f"{name}: not a PDF (it does not start with %PDF-).")
        yield document_of(name, *read_pdf(data, name))
    elif suffix == ".docx" or (data.startswith(_ZIP_MAGIC) and b"word/" in data[:1 << 16]):
        yield document_of(name, *read_docx(data, name))
    elif looks_like_feed(data, name):
        yield from _feed_items(parse_feed(data, name), options, known_url)
    else:
        yield read_document(name, data, html=options.html, url=url)


def _from_url(page: Fetched, options: SourceOptions, known_url: KnownUrl
              ) -> Iterator[Document | Skipped | Failed]:
    kind = page.content_type
    if kind not in _FEED_TYPES | _XML_TYPES | _TEXT_TYPES | {_DOCX_TYPE, "application/pdf"} \
            and not kind.startswith("text/"):
        raise InputError(f"{page.url}: not a web page, feed or document (Content-Type "
                         f"{kind}); nothing to translate.")
    if kind in _FEED_TYPES or looks_like_feed(page.data, page.url):  # items say their URLs
        yield from _feed_items(parse_feed(page.data, page.url), options, known_url)
        return
    for item in _from_bytes(page.data, page.url, options, known_url, url=page.url):
        yield _with_page(item, page) if isinstance(item, Document) else item


def _with_page(document: Document, page: Fetched) -> Document:
    """The document with where it was fetched from in its metadata."""
    extra: dict[str, Any] = {"url": page.url, "host": _host(page.url)}
    if page.final_url != page.url:
        extra["final_url"] = page.final_url
    if page.charset and page.charset != document.metadata.get("encoding"):
        extra["declared_encoding"] = page.charset
    metadata = {**document.metadata, **extra}
    metadata.setdefault("site", extra["host"])
    return Document(path=document.path, title=document.title, text=document.text,
                    metadata=metadata)


def _feed_items(feed: Feed, options: SourceOptions, known_url: KnownUrl
                ) -> Iterator[Document | Skipped | Failed]:
    for item in feed.items:
        if item.link and not options.refetch and (doc := known_url(item.link)) is not None:
            yield Skipped(item.link, doc)
            continue
        try:
            yield from _feed_item(feed, item, options)
        except InputError as exc:
            yield Failed(str(exc))


def _feed_item(feed: Feed, item: FeedItem, options: SourceOptions) -> Iterator[Document]:
    """An item's document: its full text from the feed, else its page; the feed's metadata of
    the item fills in what the page does not say."""
    from_feed = {"title": item.title, "author": item.author, "published": item.published,
                 "site": feed.title, "language": feed.language, "feed": feed.link}
    from_feed = {k: v for k, v in from_feed.items() if v}
    if item.text:
        name = item.link or f"{feed.link or feed.title}#{item.title}"
        metadata = {**from_feed, "from_feed": True}
        if item.link:
            metadata |= {"url": item.link, "host": _host(item.link)}
        yield document_of(name, item.text, metadata)
        return
    if not item.link:
        raise InputError(f"{feed.title or feed.link}: item {item.title!r} has neither a link "
                         "nor its text.")
    for document in _from_url(fetch(item.link, options.fetch), options, lambda url: None):
        if isinstance(document, Document):
            yield document_of(document.path, document.text, {**from_feed, **document.metadata})


def _is_feed_file(path: str) -> bool:
    if _suffix(path) in (".rss", ".atom"):
        return True
    if _suffix(path) not in (".xml", ""):
        return False
    try:
        with open(path, "rb") as file:
            return looks_like_feed(file.read(4096))
    except OSError:
        return False  # open_source says why


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not a file.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}).") from None


def _suffix(name: str) -> str:
    return Path(urlsplit(name).path if is_url(name) else name).suffix.lower()


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
