"""Reading source files: bytes to clean Russian text (encoding, BOM, line endings, NFC)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from corpus.errors import InputError
from corpus.types import Document

DEFAULT_PATTERNS = ("*.txt", "*.md")
ENCODINGS = ("utf-8", "cp1251", "koi8-r")
STDIN = "-"


def _cyrillic_score(text: str) -> float:
    """Share of letters that are lower-case Cyrillic: right decodings of Russian score high;
    cp1251 read as koi8-r (and back) turns most letters into upper case or symbols."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "а" <= c <= "я" or c == "ё") / len(letters)


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), Windows-1251 or KOI8-R; NFC; LF line endings."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: a binary file, not text.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        candidates = []
        for encoding in ENCODINGS[1:]:
            try:
                candidates.append((_cyrillic_score(data.decode(encoding)), encoding))
            except UnicodeDecodeError:
                continue
        if not candidates:
            raise InputError(f"{name}: not UTF-8, Windows-1251 or KOI8-R text.") from None
        text = data.decode(max(candidates)[1])
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise InputError(f"{name}: empty file, nothing to translate.")
    return text


def _title(text: str, fallback: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), fallback)
    return first[:80].lstrip("# ")


def read_document(path: str | Path, data: bytes | None = None) -> Document:
    """Read one source file (or `data` already read, e.g. stdin, named by `path`)."""
    name = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror}).") from None
    text = decode(data, name)
    return Document(path=name, title=_title(text, Path(name).stem), text=text)


def find_sources(inputs: Iterable[str], patterns: Iterable[str] = DEFAULT_PATTERNS
                 ) -> Iterator[str]:
    """Expand folders (recursively, by pattern) into files, in a stable order; `-` is stdin."""
    patterns = tuple(patterns)
    for item in inputs:
        if item == STDIN:
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
            if not found:
                raise InputError(f"{item}: no {' or '.join(patterns)} files in this folder.")
            yield from (str(p) for p in found)
        elif path.exists():
            yield item
        else:
            raise InputError(f"{item}: no such file or folder.")
