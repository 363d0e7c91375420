"""PDF documents with a text layer (pypdf): their text in page order, and their properties.

The lines of each page come from pypdf's text visitor with their height on the page, so that:
- a gap between lines wider than PARAGRAPH_GAP times the usual line spacing ends a paragraph;
  the lines of a paragraph are joined by spaces (a sentence may cross a page break);
- a word hyphenated at a line end is rejoined (`освобо-` + `жден` → `освобожден`) when
  lower-case letters stand on both sides (`Алеппо-` + `Дамаск` keeps its hyphen); a compound
  that happens to break at its own hyphen (`северо-` + `западный`) loses it, as in other
  extractors: the line end does not tell the two apart;
- a page that ends a sentence ends a paragraph (a page break is no gap to measure);
- the first and last lines of a page are running headers and footers, and dropped, when they
  repeat on every page (digits aside, so `Страница 3` counts as a repeat of `Страница 2`).

A scanned PDF (no text layer), an encrypted one and a broken one are each refused with one line.
"""

from __future__ import annotations

import io
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from corpus.errors import InputError

PARAGRAPH_GAP = 1.4
_SAME_LINE = 2.0  # points: runs this close in height are on one line
_HYPHENATED = re.compile(r"(?<=[а-яёa-z])[-\u00ad]$")
_CONTINUES = re.compile(r"^[а-яёa-z]")
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[.!?…»”\"]$")


@dataclass(frozen=True)
class _Line:
    y: float
    text: str


def read_pdf(data: bytes, name: str) -> tuple[str, dict[str, Any]]:
    """(text, metadata) of a PDF's bytes; paragraphs separated by blank lines. Raises
    InputError naming `name` for a broken, encrypted or scanned (text-less) PDF."""
    import pypdf  # only when a PDF is read
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name}: an encrypted PDF; it needs a password. Save a copy "
                             "without the password first.")
        pages = [_lines(page) for page in reader.pages]
        info = reader.metadata or {}
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{name}: a broken PDF, cannot be read ({exc}).") from None
    except Exception as exc:  # pypdf raises many kinds on bytes that only start like a PDF
        if "crypt" in str(exc).lower():
            raise InputError(f"{name}: an encrypted PDF this ruen cannot open ({exc}).") \
                from None
        raise InputError(f"{name}: a broken PDF, cannot be read ({exc}).") from None
    if not any(pages):
        raise InputError(f"{name}: a PDF without a text layer (scanned pages?); run OCR on it "
                         "first (e.g. `ocrmypdf in.pdf out.pdf`).")
    text = "\n\n".join(_paragraphs(_without_running_lines(pages)))
    metadata: dict[str, Any] = {"format": "pdf", "pages": len(pages)}
    for key, field in (("title", "/Title"), ("author", "/Author")):
        value = info.get(field)
        if isinstance(value, str) and value.strip():
            metadata[key] = " ".join(value.split())
    if (date := _pdf_date(info.get("/CreationDate"))):
        metadata["published"] = date
    return text, metadata


def _lines(page: Any) -> list[_Line]:
    """The lines of a page, top to bottom, each the runs pypdf found at one height."""
    runs: list[tuple[float, str]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], *_: Any) -> None:
        if text.strip():
            runs.append((cm[5] + tm[5] * cm[3], text))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    for y, text in runs:
        if lines and abs(lines[-1].y - y) <= _SAME_LINE:
            lines[-1] = _Line(lines[-1].y, lines[-1].text + text)
        else:
            lines.append(_Line(y, text))
    return [_Line(line.y, " ".join(line.text.split())) for line in lines]


def _without_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop a first or last line that every page has (digits aside), when there are pages
    enough to tell."""
    if len(pages) < 2 or not all(pages):
        return pages
    for position in (0, -1):
        keys = {_DIGITS.sub("#", page[position].text) for page in pages}
        if len(keys) == 1:
            pages = [page[1:] if position == 0 else page[:-1] for page in pages]
            if not all(pages):
                return pages
    return pages


def _paragraphs(pages: list[list[_Line]]) -> list[str]:
    gaps = [a.y - b.y for page in pages for a, b in pairwise(page)
            if a.y > b.y]
    spacing = statistics.median(gaps) if gaps else 0.0
    paragraphs: list[str] = []
    current = ""
    for page in pages:
        previous: _Line | None = None
        if current and _SENTENCE_END.search(current):
            paragraphs.append(current)
            current = ""
        for line in page:
            new = previous is not None and spacing and (previous.y - line.y) > (
                PARAGRAPH_GAP * spacing)
            if new and current:
                paragraphs.append(current)
                current = ""
            current = _join(current, line.text)
            previous = line
    if current:
        paragraphs.append(current)
    return paragraphs


def _join(text: str, line: str) -> str:
    if not text:
        return line
    if _HYPHENATED.search(text) and _CONTINUES.match(line):
        return text[:-1] + line
    return f"{text} {line}"


def _pdf_date(value: object) -> str:
    """YYYY-MM-DD of a PDF date (`D:20261128091500+03'00'`), "" when there is none."""
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", str(value or ""))
    return f"{match[1]}-{match[2]}-{match[3]}" if match else ""
