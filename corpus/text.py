"""Text normalisation shared by storage, translation memory and search."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalize_source(text: str) -> str:
    """The key under which identical source sentences meet: NFC, case folded, ё=е, one space."""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return _SPACE.sub(" ", text).strip()


TITLE_LENGTH = 80


def short_title(text: str, limit: int = TITLE_LENGTH) -> str:
    """`text` on one line, at most `limit` characters, cut after a whole word (with `…`) when
    longer: a title is never cut mid-word."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    head = text[:limit]
    if text[limit] != " " and " " in head:  # the limit falls inside a word: drop that word
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:—–-") + "…"  # (a single word longer than the limit is cut)
