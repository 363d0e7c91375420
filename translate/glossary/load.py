"""Reading glossary files: TSV or CSV with a header, and TBX termbases (`translate.glossary.tbx`).

TSV/CSV columns: `ru` and `en` required; `note`, `variants` (`|`-separated wrong English
renderings), `case_sensitive` (yes/no, true/false, 1/0) and `admitted` (`|`-separated other
correct renderings) optional. Lines starting with `#`
and blank lines are skipped. Every problem is a `FormatError` naming the file and line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from corpus.errors import FormatError
from translate.glossary.entries import Entry
from translate.glossary.tbx import TermbaseSummary, read_tbx

COLUMNS = ("ru", "en", "note", "variants", "case_sensitive", "admitted")
REQUIRED = ("ru", "en")
DEFAULT_GLOSSARY = Path(__file__).parent / "data" / "syria.tsv"
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n", ""}


def user_glossary_path() -> Path:
    """Where `ruen glossary add` writes: `$RUEN_GLOSSARY`, else `glossary.tsv` in the per-user
    data directory. It is layered over the default glossary when it exists."""
    env = os.environ.get("RUEN_GLOSSARY")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("ruen", appauthor=False)) / "glossary.tsv"


@dataclass(frozen=True)
class GlossaryFile:
    """The entries of one file and, for a termbase, what became of its concepts."""

    entries: list[Entry]
    summary: TermbaseSummary | None = None


def read_entries(path: Path) -> list[Entry]:
    """The entries of one glossary file, in file order."""
    return read_file(path).entries


def read_file(path: Path) -> GlossaryFile:
    """One glossary file: TSV, CSV, or TBX (by the name, or by content that is XML)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the glossary ({exc.strerror}).") from None
    if path.suffix.lower() == ".tbx" or _is_xml(data):
        return GlossaryFile(*read_tbx(path, data))  # expat reads the encoding XML declares
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8; save the glossary as UTF-8.") from None
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    return GlossaryFile(list(_table(path, text, delimiter)))


def _is_xml(data: bytes) -> bool:
    """Whether a file starts like XML: termbase tools write UTF-8 or UTF-16, with a BOM."""
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
        else "utf-8-sig"
    return data[:400].decode(encoding, errors="ignore").lstrip().startswith("<")


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _table(path: Path, text: str, delimiter: str) -> Iterator[Entry]:
    lines = list(_lines(text))
    if not lines:
        raise FormatError(f"{path}: empty glossary; the first line must be a header "
                          f"with the columns ru and en.")
    header_line, header = lines[0]
    names = [n.strip().lower() for n in next(csv.reader([header], delimiter=delimiter))]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FormatError(
            f"{path}:{header_line}: the header must name the columns ru and en "
            f"(missing {', '.join(missing)}; separate columns with "
            f"{'commas' if delimiter == ',' else 'tabs'}).")
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise FormatError(f"{path}:{header_line}: unknown column {unknown[0]!r}; "
                          f"columns are {', '.join(COLUMNS)}.")
    for number, line in lines[1:]:
        cells = next(csv.reader(io.StringIO(line), delimiter=delimiter))
        if len(cells) != len(names):
            raise FormatError(f"{path}:{number}: {len(cells)} columns, the header has "
                              f"{len(names)}.")
        row = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
        yield _entry(path, number, row)


def _entry(path: Path, line: int, row: dict[str, str]) -> Entry:
    where = f"{path}:{line}"
    if not row.get("ru"):
        raise FormatError(f"{where}: empty ru column; every entry needs the Russian term.")
    if not row.get("en"):
        raise FormatError(f"{where}: empty en column for {row['ru']!r}; give its English "
                          f"target.")
    flag = row.get("case_sensitive", "").lower()
    if flag not in _TRUE | _FALSE:
        raise FormatError(f"{where}: case_sensitive must be yes or no, not {flag!r}.")
    variants, admitted = (tuple(v.strip() for v in row.get(column, "").split("|") if v.strip())
                          for column in ("variants", "admitted"))
    return Entry(ru=row["ru"], en=row["en"], note=row.get("note", ""), variants=variants,
                 admitted=admitted,
                 case_sensitive=flag in _TRUE or flag == "", origin=where)


def add_entry(path: Path, entry: Entry) -> str:
    """Add `entry` to the TSV glossary at `path` (made with a header if new). An entry for the
    same Russian term is replaced. Returns "added", "updated" or "unchanged"."""
    for value in (entry.ru, entry.en, entry.note, *entry.variants, *entry.admitted):
        if "\t" in value or "\n" in value:
            raise FormatError(f"{value!r}: tabs and line breaks cannot be stored in a glossary.")
    if any("|" in v for v in (*entry.variants, *entry.admitted)):
        raise FormatError("a variant or admitted rendering cannot contain |, which separates "
                          "them.")
    if not entry.ru.strip() or not entry.en.strip():
        raise FormatError("both the Russian term and the English target are needed.")
    entries = read_entries(path) if path.exists() else []
    if path.suffix.lower() in (".csv", ".tbx"):
        raise FormatError(f"{path}: `ruen glossary add` writes TSV files; name one *.tsv.")
    old = next((e for e in entries if e.ru == entry.ru), None)
    if old is not None and (old.en, old.note, old.variants, old.admitted) == (
            entry.en, entry.note, entry.variants, entry.admitted):
        return "unchanged"
    kept = [e for e in entries if e.ru != entry.ru] + [entry]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(COLUMNS)] + [
        "\t".join([e.ru, e.en, e.note, "|".join(e.variants),
                   "yes" if e.case_sensitive else "no", "|".join(e.admitted)]) for e in kept]
    if path.exists():  # keep the comments at the top of a hand-written file
        head = []
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if not line.lstrip().startswith("#"):
                break
            head.append(line)
        lines = head + lines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "added" if old is None else "updated"
