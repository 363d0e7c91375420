"""RSS and Atom feeds (feedparser): the items of a feed, each with its link, metadata and, when
the feed carries an item's full text, that text.

A feed is told from a page by its first element (`<rss`, `<feed`, `<rdf:RDF`); feedparser reads
RSS 0.9x-2.0, RDF and Atom in any declared encoding. An item's text counts as full when it has
at least FULL_TEXT_CHARS characters; shorter ones are teasers, and the item's link is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import struct_time
from typing import Any

from corpus.errors import InputError
from corpus.html import html_to_text

FULL_TEXT_CHARS = 500
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<\?[^>]*>\s*)*"
                         rb"<(?:rss|feed|rdf:RDF)[\s>]", re.DOTALL)
_SNIFFED = 4096


@dataclass(frozen=True)
class FeedItem:
    link: str
    title: str
    author: str
    published: str  # ISO date (YYYY-MM-DD) as the feed gives it, "" when it does not
    text: str  # the full text from the feed (paragraphs by blank lines), "" when not carried


@dataclass(frozen=True)
class Feed:
    title: str
    link: str
    language: str
    items: tuple[FeedItem, ...]


def looks_like_feed(data: bytes, name: str = "") -> bool:
    """An `.rss`/`.atom` file or bytes starting (after an XML declaration) with a feed element."""
    head = data[:_SNIFFED].lstrip(b"\xef\xbb\xbf")
    return name.lower().endswith((".rss", ".atom")) or bool(_FEED_START.match(head))


def parse_feed(data: bytes, name: str) -> Feed:
    """The items of an RSS or Atom feed, in the feed's order. Raises InputError naming `name`
    when the bytes are not a feed (not XML, or XML of another kind)."""
    import feedparser  # only when a feed is read

    parsed = feedparser.parse(data)
    if not parsed.version:
        problem = parsed.get("bozo_exception")
        why = f"not XML ({problem})" if parsed.bozo and problem else "no <rss> or <feed> in it"
        raise InputError(f"{name}: not an RSS or Atom feed: {why}.")
    items = tuple(_item(entry) for entry in parsed.entries)
    if not items:
        raise InputError(f"{name}: the feed has no items, nothing to translate.")
    return Feed(title=parsed.feed.get("title", ""), link=parsed.feed.get("link", ""),
                language=(parsed.feed.get("language") or "").lower()[:2], items=items)


def _item(entry: Any) -> FeedItem:
    texts = [c.get("value", "") for c in entry.get("content", [])]
    full = max((html_to_text(t) for t in texts), key=len, default="")
    return FeedItem(link=entry.get("link", ""), title=" ".join(entry.get("title", "").split()),
                    author=entry.get("author", ""),
                    published=_date(entry.get("published") or entry.get("updated") or "",
                                    entry.get("published_parsed") or entry.get("updated_parsed")),
                    text=full if len(full) >= FULL_TEXT_CHARS else "")


def _date(text: str, parsed: struct_time | None) -> str:
    """The date as written (its own time zone: a 00:30 Moscow item is dated that day), else as
    feedparser read it (UTC)."""
    for parse in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            return parse(text).date().isoformat()
        except (TypeError, ValueError, IndexError):
            continue
    if parsed is not None:
        return datetime(*parsed[:6], tzinfo=UTC).date().isoformat()
    return ""
