"""Reading glossary files: TSV or CSV with a header, and TBX (the terminology exchange format).

TSV/CSV columns: `ru` and `en` required; `note`, `variants` (`|`-separated wrong English
renderings) and `case_sensitive` (yes/no, true/false, 1/0) optional. Lines starting with `#`
and blank lines are skipped. Every problem is a `FormatError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import os
import xml.parsers.expat
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from corpus.errors import FormatError
from translate.glossary.entries import Entry

COLUMNS = ("ru", "en", "note", "variants", "case_sensitive")
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


def read_entries(path: Path) -> list[Entry]:
    """The entries of one glossary file, in file order."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the glossary ({exc.strerror}).") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8; save the glossary as UTF-8.") from None
    if path.suffix.lower() == ".tbx" or text.lstrip().startswith("<"):
        return list(_tbx(path, data))
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    return list(_table(path, text, delimiter))


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
    variants = tuple(v.strip() for v in row.get("variants", "").split("|") if v.strip())
    return Entry(ru=row["ru"], en=row["en"], note=row.get("note", ""), variants=variants,
                 case_sensitive=flag in _TRUE or flag == "", origin=where)


def add_entry(path: Path, entry: Entry) -> str:
    """Add `entry` to the TSV glossary at `path` (made with a header if new). An entry for the
    same Russian term is replaced. Returns "added", "updated" or "unchanged"."""
    for value in (entry.ru, entry.en, entry.note, *entry.variants):
        if "\t" in value or "\n" in value:
            raise FormatError(f"{value!r}: tabs and line breaks cannot be stored in a glossary.")
    if any("|" in v for v in entry.variants):
        raise FormatError("a variant cannot contain |, which separates variants.")
    if not entry.ru.strip() or not entry.en.strip():
        raise FormatError("both the Russian term and the English target are needed.")
    entries = read_entries(path) if path.exists() else []
    if path.suffix.lower() in (".csv", ".tbx"):
        raise FormatError(f"{path}: `ruen glossary add` writes TSV files; name one *.tsv.")
    old = next((e for e in entries if e.ru == entry.ru), None)
    if old is not None and (old.en, old.note, old.variants) == (entry.en, entry.note,
                                                                entry.variants):
        return "unchanged"
    kept = [e for e in entries if e.ru != entry.ru] + [entry]
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(COLUMNS)] + [
        "\t".join([e.ru, e.en, e.note, "|".join(e.variants),
                   "yes" if e.case_sensitive else "no"]) for e in kept]
    if path.exists():  # keep the comments at the top of a hand-written file
        head = []
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if not line.lstrip().startswith("#"):
                break
            head.append(line)
        lines = head + lines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "added" if old is None else "updated"


# ---------------------------------------------------------------- TBX


def _tbx(path: Path, data: bytes) -> Iterator[Entry]:
    """Entries of a TBX file: in each termEntry/conceptEntry, every Russian term points to the
    first English term; `note`/`descrip` elements become the note."""
    parser = xml.parsers.expat.ParserCreate()
    concepts: list[dict[str, object]] = []
    stack: list[str] = []
    state: dict[str, object] = {"concept": None, "lang": None, "text": None}

    def start(name: str, attrs: dict[str, str]) -> None:
        stack.append(name)
        if name in ("termEntry", "conceptEntry"):
            state["concept"] = {"line": parser.CurrentLineNumber, "ru": [], "en": [],
                                "note": []}
            concepts.append(state["concept"])  # type: ignore[arg-type]
        elif name == "langSet" or name == "langSec":
            lang = attrs.get("xml:lang") or attrs.get("lang") or ""
            state["lang"] = lang.lower().split("-")[0]
        elif name in ("term", "note", "descrip"):
            state["text"] = []

    def chars(text: str) -> None:
        if isinstance(state["text"], list):
            state["text"].append(text)

    def end(name: str) -> None:
        stack.pop()
        concept = state["concept"]
        if name in ("term", "note", "descrip") and isinstance(state["text"], list):
            value = "".join(state["text"]).strip()
            state["text"] = None
            if concept is not None and value:
                if name == "term" and state["lang"] in ("ru", "en"):
                    concept[state["lang"]].append(  # type: ignore[index]
                        (parser.CurrentLineNumber, value))
                elif name != "term":
                    concept["note"].append(value)  # type: ignore[index]
        elif name in ("termEntry", "conceptEntry"):
            state["concept"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise FormatError(f"{path}:{exc.lineno}: not valid TBX/XML "
                          f"({xml.parsers.expat.ErrorString(exc.code)}).") from None
    if not concepts:
        raise FormatError(f"{path}:1: no termEntry or conceptEntry elements; not a TBX "
                          f"glossary.")
    for concept in concepts:
        line = concept["line"]
        if not concept["ru"]:
            continue  # a concept without Russian terms says nothing about Russian text
        if not concept["en"]:
            raise FormatError(f"{path}:{line}: term entry without an English term "
                              f"(langSet xml:lang=\"en\").")
        en = concept["en"][0][1]  # type: ignore[index]
        note = "; ".join(concept["note"])  # type: ignore[arg-type]
        for term_line, ru in concept["ru"]:  # type: ignore[attr-defined]
            yield Entry(ru=ru, en=en, note=note, origin=f"{path}:{term_line}")
