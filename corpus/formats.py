"""Writing sentence pairs as text, TSV or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import Any, TextIO

from corpus.types import SentencePair

PAIR_FORMATS = ("text", "tsv", "jsonl")
# What a document says about itself, carried by every JSON line of it (and TMX <prop>s).
DOCUMENT_FIELDS = ("title", "author", "published", "site", "url", "language")


def document_fields(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The DOCUMENT_FIELDS a document's metadata has, in that order."""
    return {k: str(metadata[k]) for k in DOCUMENT_FIELDS if metadata.get(k) not in (None, "")}

_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_escape(text: str) -> str:
    """Backslash-escape what would break a TSV row, so that the row reads back exactly."""
    return "".join(_TSV_ESCAPES.get(c, c) for c in text)


def tsv_unescape(text: str) -> str:
    out, chars = [], iter(text)
    reverse = {v[1]: k for k, v in _TSV_ESCAPES.items()}
    for c in chars:
        out.append(reverse.get(next(chars, "\\"), "\\") if c == "\\" else c)
    return "".join(out)


def paragraph_separator(source_text: str) -> str:
    """Blank lines between paragraphs if the source has them, else one newline."""
    return "\n\n" if "\n\n" in source_text.strip() else "\n"


def render_text(pairs: Iterable[SentencePair], separator: str = "\n") -> str:
    """The English text, sentences of one paragraph joined by a space, paragraphs as given."""
    paragraphs = groupby(pairs, key=lambda p: (p.doc, p.paragraph))
    return separator.join(" ".join(p.en for p in group) for _, group in paragraphs)


def write_pairs(pairs: Iterable[SentencePair], fmt: str, out: TextIO,
                separator: str = "\n", document: Mapping[str, str] | None = None) -> int:
    """Write pairs in `fmt` (text | tsv | jsonl); returns how many were written. With
    `document` (`document_fields`), each JSON line carries it as "document"."""
    pairs = list(pairs)
    if fmt == "text":
        out.write(render_text(pairs, separator) + "\n")
    elif fmt == "tsv":
        out.writelines(f"{tsv_escape(p.ru)}\t{tsv_escape(p.en)}\n" for p in pairs)
    elif fmt == "jsonl":
        extra = {"document": dict(document)} if document else {}
        out.writelines(json.dumps(p.as_json() | extra, ensure_ascii=False) + "\n"
                       for p in pairs)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return len(pairs)
