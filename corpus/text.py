"""Text normalisation shared by storage, translation memory and search."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalize_source(text: str) -> str:
    """The key under which identical source sentences meet: NFC, case folded, ё=е, one space."""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return _SPACE.sub(" ", text).strip()
