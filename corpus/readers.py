"""One reader per file format of sentence pairs: TSV, JSON lines, TMX and plain lines.

`ruen import`, `ruen eval` and `ruen qa` all read through these, so a file means the same to
each of them and a malformed one gets the same message (file, line, what is wrong):

- text: UTF-8 with or without BOM, or UTF-16 with BOM (what Excel saves as "Unicode text");
  CRLF or LF. Plain lines are sentences one per line, an empty line an empty sentence.
- TSV: `ru<TAB>en` per line, backslash escapes (`\\t`, `\\n`, `\\\\`) as `ruen export` writes
  them; blank lines are skipped. The first line is a header, not a pair, when every one of
  its cells names a column (`ru`, `en`, `source`, `target`, `russian`, `english`, a language
  tag such as `ru-RU`, see HEADER_NAMES): then the columns named Russian and English are read
  wherever they are and other columns are ignored; without a header a row has exactly two
  fields. A sentence pair never consists of such names alone, so the two cannot be confused.
- JSONL: one object per line; `ru`, `en` and ruen's own fields (`doc`, `index`, `paragraph`,
  `title`, `kind`, `origin`, `system`).
- TMX 1.1-1.4b (`lang=` or `xml:lang=`, any region tag, UTF-8 or UTF-16): see `_TmxReader`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from corpus.errors import FormatError
from corpus.formats import tsv_unescape
from corpus.types import KINDS

#: <prop type="..."> names for what TMX has no attribute for (user types start with x-).
PROP_DOC, PROP_INDEX, PROP_PARAGRAPH, PROP_TITLE, PROP_ORIGIN = (
    "x-ruen-doc", "x-ruen-index", "x-ruen-paragraph", "x-ruen-title", "x-ruen-origin")
PROP_KIND, PROP_SYSTEM = "x-ruen-kind", "x-ruen-system"
PROP_SCORE = "x-ruen-score"  # the model's confidence in a machine translation
CHAR_PH = "x-ruen-char"
# Native codes inside a segment (TMX 1.4b: bpt, ept, it, ph, ut, and sub inside them): markup
# of the original file, not text, so their content is dropped. <hi> is text (a highlight).
_INLINE = frozenset({"bpt", "ept", "it", "ph", "ut", "sub"})
FORMATS = ("tmx", "tsv", "jsonl")
#: Header cells of a TSV (case and spaces ignored), by the side they name.
HEADER_NAMES = {
    "ru": "ru", "rus": "ru", "russian": "ru", "source": "ru", "src": "ru", "ru-ru": "ru",
    "source text": "ru", "русский": "ru", "en": "en", "eng": "en", "english": "en",
    "target": "en", "tgt": "en", "translation": "en", "target text": "en", "английский": "en",
    "en-us": "en", "en-gb": "en",
}
_LANGUAGE_TAG = re.compile(r"(ru|en)[-_][a-z]{2}")


@dataclass(frozen=True)
class Row:
    """One sentence pair as read from a file, with its line (for messages)."""

    line: int
    ru: str
    en: str
    doc: str = ""
    index: int | None = None
    paragraph: int | None = None
    title: str = ""
    kind: str = ""  # mt | post-edit | reference when the file says (ruen's exports)
    origin: str = ""
    system: str = ""
    score: float | None = None  # the model's confidence in a machine translation


def _score(path: Path, line: int, value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{path}:{line}: score {value!r} is not a number.") from None


# ---------------------------------------------------------------- text and lines


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (BOM or not) or UTF-16 with BOM; CRLF and CR become LF."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: a folder, not a file.") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror}).") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = ""
        # Bytes that merely start like a UTF-16 BOM decode to CJK and other noise; Russian and
        # English text in UTF-16 is mostly Latin, Cyrillic and punctuation.
        usual = sum(c < "\u0500" or "\u2000" <= c <= "\u206f" for c in text)
        if not text or usual < len(text) / 2:
            raise FormatError(f"{path}: not UTF-8 text, and not UTF-16 either despite its "
                              "first two bytes; convert it to UTF-8 first.")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise FormatError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); convert it "
                              "to UTF-8 first.") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_lines(path: Path) -> list[str]:
    """Every line; the final newline ends a line, it does not start one."""
    lines = read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _numbered(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of the lines that are not blank."""
    return [(n, line) for n, line in enumerate(read_lines(path), start=1) if line.strip()]


# ---------------------------------------------------------------- TSV


def tsv_header(cells: list[str]) -> dict[str, int] | None:
    """{side: column} when every cell of a row names a column (see HEADER_NAMES), else None."""
    sides: dict[str, int] = {}
    for column, cell in enumerate(cells):
        name = " ".join(cell.lower().replace("_", " ").split())
        side = HEADER_NAMES.get(name) or (name[:2] if _LANGUAGE_TAG.fullmatch(name) else None)
        if side is None and name not in ("note", "notes", "comment", "id", "context"):
            return None
        if side is not None:
            sides.setdefault(side, column)
    return sides if sides else None


def read_tsv(path: Path) -> list[Row]:
    """`ru<TAB>en` per line, with or without a header row (see the module doc)."""
    rows = _numbered(path)
    columns, width, header_line = {"ru": 0, "en": 1}, 2, 0
    if rows and (header := tsv_header(rows[0][1].split("\t"))) is not None:
        number = rows[0][0]
        for side, language in (("ru", "Russian"), ("en", "English")):
            if side not in header:
                raise FormatError(f"{path}:{number}: the header names no {language} column "
                                  f"(e.g. {side!r}).")
        columns, width, header_line = header, len(rows[0][1].split("\t")), number
        rows = rows[1:]
    pairs = []
    for number, line in rows:
        fields = line.split("\t")
        if len(fields) != width:
            problem = (f"{len(fields)} columns, the header has {width}." if header_line else
                       f"expected 2 tab-separated fields (Russian, English), found "
                       f"{len(fields)}.")
            raise FormatError(f"{path}:{number}: {problem}")
        pairs.append(Row(number, tsv_unescape(fields[columns["ru"]]),
                         tsv_unescape(fields[columns["en"]])))
    return pairs


# ---------------------------------------------------------------- JSON lines


def read_json_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, object) for every non-blank line."""
    objects = []
    for number, line in _numbered(path):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path}:{number}: not JSON ({exc.msg}).") from None
        if not isinstance(value, dict):
            raise FormatError(f"{path}:{number}: expected an object with \"ru\" and \"en\".")
        objects.append((number, value))
    return objects


def read_jsonl(path: Path) -> list[Row]:
    """One object per line with "ru" and "en"; "doc", "index", "paragraph", "title", "kind",
    "origin" and "system" are kept when present (as `ruen export --format jsonl` writes)."""
    rows = []
    for number, row in read_json_objects(path):
        for key in ("ru", "en"):
            if not isinstance(row.get(key), str):
                raise FormatError(f"{path}:{number}: \"{key}\" is missing or not a string.")
        doc = row.get("doc")
        rows.append(Row(
            number, row["ru"], row["en"], doc="" if doc is None else str(doc),
            index=_int(path, number, "\"index\"", row.get("index")),
            paragraph=_int(path, number, "\"paragraph\"", row.get("paragraph")),
            title=str(row.get("title") or ""), kind=_kind(path, number, row.get("kind") or ""),
            origin=str(row.get("origin") or ""), system=str(row.get("system") or ""),
            score=_score(path, number, row.get("score"))))
    return rows


# ---------------------------------------------------------------- TMX


def _utf16(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(2) in (b"\xff\xfe", b"\xfe\xff")


class ExpatReader:
    """The frame of ruen's XML readers (TMX here, XLIFF in corpus.xliff): an expat parser
    calling `start`, `end` and `text`, errors naming the file and line. UTF-16 with a BOM
    (Trados, memoQ) is handed to expat as UTF-8, since expat does not know every name such
    files declare (utf-16-le...); other files are streamed."""

    def __init__(self, path: Path, namespace_separator: str | None = None) -> None:
        self.path = path
        self.parser = expat.ParserCreate("UTF-8" if _utf16(path) else None,
                                         namespace_separator)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text

    def start(self, name: str, attrs: dict[str, str]) -> None: ...

    def end(self, name: str) -> None: ...

    def text(self, data: str) -> None: ...

    def error(self, message: str, line: int | None = None) -> FormatError:
        return FormatError(f"{self.path}:{line or self.parser.CurrentLineNumber}: {message}")

    def code_point(self, code: str, element: str) -> str:
        """The character ruen's `element` (a `<ph>` holding a control character's code point in
        hex, as `xml_text` writes it) stands for."""
        try:
            return chr(int(code, 16))
        except ValueError:
            raise self.error(f"{element} holds {code!r}, not a code point.") from None

    def parse(self) -> None:
        try:
            if _utf16(self.path):
                self.parser.Parse(self.path.read_bytes().decode("utf-16").encode("utf-8"), True)
            else:
                with self.path.open("rb") as stream:
                    self.parser.ParseFile(stream)
        except expat.ExpatError as exc:
            raise FormatError(f"{self.path}:{exc.lineno}: not well-formed XML "
                              f"({expat.ErrorString(exc.code)}).") from None
        except UnicodeDecodeError as exc:
            raise FormatError(f"{self.path}: broken UTF-16 (byte {exc.start}).") from None


def _kind(path: Path, line: int, value: object) -> str:
    if value and value not in KINDS:
        raise FormatError(f"{path}:{line}: kind {value!r}; ruen knows {', '.join(KINDS)}.")
    return str(value)


def _int(path: Path, line: int, what: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise FormatError(f"{path}:{line}: {what} {value!r} is not a whole number.") from None
    if number < 0 or isinstance(value, bool):
        raise FormatError(f"{path}:{line}: {what} {value!r} must be 0 or more.")
    return number


class _TmxReader(ExpatReader):
    """A streaming TMX reader that remembers the line of every unit."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.units: list[Row] = []
        self.stack: list[str] = []
        self.unit: dict | None = None
        self.buffer: list[str] | None = None  # text being collected (prop or seg)
        self.skip = 0  # depth inside inline native codes
        self.char_code: list[str] | None = None

    def read(self) -> list[Row]:
        self.parse()
        return self.units

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if parent is None and name != "tmx":
            raise self.error(f"the root element is <{name}>, not <tmx>: not a TMX file.")
        if self.buffer is not None and self.unit is not None and "lang" in self.unit:
            # inside <seg>: inline elements
            if name == "ph" and attrs.get("type") == CHAR_PH and not self.skip:
                self.char_code = []
            elif name in _INLINE:
                self.skip += 1
            return
        if name == "header":
            source = attrs.get("srclang", "").lower()
            if source and source != "*all*" and source.split("-")[0] != "ru":
                raise self.error(f"srclang is {source!r}; ruen imports Russian→English "
                                 "memories (srclang ru).")
        elif name == "tu":
            self.unit = {"line": self.parser.CurrentLineNumber, "props": {}, "tuvs": {}}
        elif name == "prop" and self.unit is not None:
            self.unit["prop"] = attrs.get("type", "")
            self.buffer = []
        elif name == "tuv" and self.unit is not None:
            lang = attrs.get("xml:lang") or attrs.get("lang") or ""
            primary = lang.split("-")[0].split("_")[0].lower()
            if primary not in ("ru", "en"):
                raise self.error(f"a <tuv> in language {lang or '(none)'!r}; ruen reads ru "
                                 "and en only.")
            if primary in self.unit["tuvs"]:
                raise self.error(f"a second <tuv> in {primary} in one <tu>.")
            self.unit["lang"] = primary
        elif name == "seg" and self.unit is not None and "lang" in self.unit:
            self.buffer = []

    def text(self, data: str) -> None:
        if self.char_code is not None:
            self.char_code.append(data)
        elif self.buffer is not None and not self.skip:
            self.buffer.append(data)

    def end(self, name: str) -> None:
        self.stack.pop()
        unit = self.unit
        if self.char_code is not None and name == "ph":
            code = "".join(self.char_code)
            self.char_code = None
            self.buffer.append(  # type: ignore[union-attr]
                self.code_point(code, f'<ph type="{CHAR_PH}">'))
            return
        if self.skip and name in _INLINE:
            self.skip -= 1
            return
        if unit is None:
            return
        if name == "prop" and self.buffer is not None:
            unit["props"][unit.pop("prop")] = "".join(self.buffer)
            self.buffer = None
        elif name == "seg" and self.buffer is not None:
            unit["tuvs"][unit["lang"]] = "".join(self.buffer)
            self.buffer = None
        elif name == "tuv":
            unit.pop("lang", None)
        elif name == "tu":
            self.units.append(self._unit(unit))
            self.unit = None

    def _unit(self, unit: dict) -> Row:
        line, tuvs, props = unit["line"], unit["tuvs"], unit["props"]
        for lang, language in (("ru", "Russian"), ("en", "English")):
            if lang not in tuvs:
                raise self.error(f"the <tu> has no {language} <tuv xml:lang=\"{lang}\">"
                                 "<seg>.", line)
        return Row(line=line, ru=tuvs["ru"], en=tuvs["en"], doc=props.get(PROP_DOC, ""),
                   index=_int(self.path, line, "sentence index", props.get(PROP_INDEX)),
                   paragraph=_int(self.path, line, "paragraph", props.get(PROP_PARAGRAPH)),
                   title=props.get(PROP_TITLE, ""),
                   kind=_kind(self.path, line, props.get(PROP_KIND, "")),
                   origin=props.get(PROP_ORIGIN, ""), system=props.get(PROP_SYSTEM, ""),
                   score=_score(self.path, line, props.get(PROP_SCORE)))


def read_tmx(path: Path) -> list[Row]:
    return _TmxReader(Path(path)).read()


# ---------------------------------------------------------------- any of them


def detect_format(path: Path) -> str:
    """tmx | tsv | jsonl, by the file's extension, else by its first bytes."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("tmx", "xml"):
        return "tmx"
    if suffix in ("jsonl", "json", "ndjson"):
        return "jsonl"
    if suffix in ("tsv", "tab"):
        return "tsv"
    with path.open("rb") as stream:
        start = stream.read(512)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        start = start.decode("utf-16", errors="ignore").encode()
    start = start.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "tmx" if start.startswith(b"<") else "jsonl" if start.startswith(b"{") else "tsv"


READERS = {"tmx": read_tmx, "tsv": read_tsv, "jsonl": read_jsonl}


def read_rows(path: str | Path, fmt: str = "auto") -> list[Row]:
    """The sentence pairs of a TMX, TSV or JSONL file (FormatError when malformed)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file.")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in READERS:
        raise FormatError(f"{path}: unknown format {fmt!r}; choose {', '.join(FORMATS)}.")
    return READERS[fmt](path)
