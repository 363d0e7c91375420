"""Sentence pairs in and out of the archive as TMX 1.4b, TSV, JSON lines and Moses files.

Export then import gives back the same sentences, translations, documents and positions: text
is written so that any character survives (TMX escapes `\\r` as `&#13;` and characters XML 1.0
cannot hold as `<ph type="x-ruen-char">` with their code point; TSV backslash-escapes tabs and
newlines). Reading checks everything and reports the file and line of the first problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TextIO
from xml.parsers import expat

from corpus.errors import FormatError
from corpus.formats import tsv_unescape
from corpus.store import Archive, ImportOutcome
from corpus.types import Kind, SentencePair

IMPORT_FORMATS = ("tmx", "tsv", "jsonl")
IMPORT_KINDS: tuple[Kind, ...] = ("reference", "post-edit")
TMX_DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
CREATION_TOOL = "ruen"
#: <prop type="..."> names for what TMX has no attribute for (user types start with x-).
PROP_DOC, PROP_INDEX, PROP_PARAGRAPH, PROP_TITLE, PROP_ORIGIN = (
    "x-ruen-doc", "x-ruen-index", "x-ruen-paragraph", "x-ruen-title", "x-ruen-origin")
CHAR_PH = "x-ruen-char"
_INLINE = frozenset({"bpt", "ept", "it", "ph", "ut", "sub"})  # native codes, not text
# Characters XML 1.0 cannot carry at all, and \r, which parsers turn into \n unless escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _version() -> str:
    try:
        return metadata.version("ruen")
    except metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- writing


def _xml_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("\r", "&#13;")
    return _NOT_XML.sub(lambda m: f'<ph type="{CHAR_PH}">{ord(m.group()):04X}</ph>', text)


def _prop_text(text: str) -> str:
    # props cannot hold inline elements: characters XML cannot carry are dropped from titles
    return _xml_text(_NOT_XML.sub("", text))


def write_tmx(units: Iterable[tuple[str, SentencePair]], out: TextIO,
              documents: Mapping[int | None, Mapping[str, str]] | None = None) -> int:
    """Write (document title, pair) units as a TMX 1.4b document; returns how many. A pair's
    document's fields in `documents` (by doc id, `corpus.formats.document_fields`; the title
    aside) become `x-ruen-FIELD` props of each of its units."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + TMX_DOCTYPE + "\n")
    out.write('<tmx version="1.4">\n')
    out.write(f'  <header creationtool="{CREATION_TOOL}" creationtoolversion="{_version()}"'
              ' segtype="sentence" o-tmf="ruen" adminlang="en" srclang="ru"'
              ' datatype="plaintext"/>\n  <body>\n')
    count = 0
    for title, pair in units:
        props = [(PROP_DOC, str(pair.doc)), (PROP_INDEX, str(pair.index)),
                 (PROP_PARAGRAPH, str(pair.paragraph)), (PROP_TITLE, title),
                 (PROP_ORIGIN, pair.origin)]
        props += [(f"x-ruen-{k}", v) for k, v in (documents or {}).get(pair.doc, {}).items()
                  if k != "title"]
        out.write(f'    <tu tuid="{pair.doc}-{pair.index}">\n')
        out.writelines(f'      <prop type="{k}">{_prop_text(v)}</prop>\n' for k, v in props)
        out.write(f'      <tuv xml:lang="ru"><seg>{_xml_text(pair.ru)}</seg></tuv>\n'
                  f'      <tuv xml:lang="en"><seg>{_xml_text(pair.en)}</seg></tuv>\n'
                  "    </tu>\n")
        count += 1
    out.write("  </body>\n</tmx>\n")
    return count


def moses_line(text: str) -> str:
    """One line of a Moses file: line breaks inside a sentence become spaces."""
    return _LINE_BREAKS.sub(" ", text)


def write_moses(pairs: Iterable[SentencePair], ru_out: TextIO, en_out: TextIO) -> int:
    """Line-aligned plain text, Russian and English in two files, as Moses tools read them."""
    count = 0
    for pair in pairs:
        ru_out.write(moses_line(pair.ru) + "\n")
        en_out.write(moses_line(pair.en) + "\n")
        count += 1
    return count


def moses_paths(name: Path) -> tuple[Path, Path]:
    """`NAME.ru` and `NAME.en` next to each other."""
    return name.with_name(name.name + ".ru"), name.with_name(name.name + ".en")


# ---------------------------------------------------------------- reading


@dataclass
class ImportedDocument:
    """Sentence pairs of one document as read from a file."""

    key: str  # the document as named in the file ("" when the file does not say)
    title: str
    pairs: list[SentencePair] = field(default_factory=list)


@dataclass(frozen=True)
class _Unit:
    line: int
    ru: str
    en: str
    doc: str = ""
    index: int | None = None
    paragraph: int | None = None
    title: str = ""


def _group(path: Path, units: Iterable[_Unit]) -> list[ImportedDocument]:
    """Units into documents, in the order first seen; duplicated positions are an error."""
    documents: dict[str, ImportedDocument] = {}
    seen: dict[tuple[str, int], int] = {}
    for unit in units:
        if not unit.ru.strip() or not unit.en.strip():
            side = "Russian" if not unit.ru.strip() else "English"
            raise FormatError(f"{path}:{unit.line}: the {side} text is empty.")
        document = documents.setdefault(unit.doc, ImportedDocument(unit.doc, unit.title))
        index = len(document.pairs) if unit.index is None else unit.index
        if (unit.doc, index) in seen:
            raise FormatError(
                f"{path}:{unit.line}: duplicate unit: sentence {index} of document "
                f"{unit.doc or '(none)'} was already given at line {seen[unit.doc, index]}.")
        seen[unit.doc, index] = unit.line
        paragraph = index if unit.paragraph is None else unit.paragraph
        document.pairs.append(SentencePair(doc=None, index=index, paragraph=paragraph,
                                           ru=unit.ru, en=unit.en))
    if not documents:
        raise FormatError(f"{path}: no sentence pairs found.")
    for document in documents.values():
        if not document.title:
            document.title = path.stem + (f" #{document.key}" if len(documents) > 1 else "")
    return list(documents.values())


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


class _TmxReader:
    """A streaming TMX reader (expat) that remembers the line of every unit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.units: list[_Unit] = []
        self.stack: list[str] = []
        self.unit: dict | None = None
        self.buffer: list[str] | None = None  # text being collected (prop or seg)
        self.skip = 0  # depth inside inline native codes
        self.char_code: list[str] | None = None

    def error(self, message: str, line: int | None = None) -> FormatError:
        return FormatError(f"{self.path}:{line or self.parser.CurrentLineNumber}: {message}")

    def read(self) -> list[_Unit]:
        try:
            with self.path.open("rb") as stream:
                self.parser.ParseFile(stream)
        except expat.ExpatError as exc:
            raise FormatError(f"{self.path}:{exc.lineno}: not well-formed XML "
                              f"({expat.ErrorString(exc.code)}).") from None
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
            try:
                self.buffer.append(chr(int(code, 16)))  # type: ignore[union-attr]
            except ValueError:
                raise self.error(f"<ph type=\"{CHAR_PH}\"> holds {code!r}, not a code "
                                 "point.") from None
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

    def _unit(self, unit: dict) -> _Unit:
        line, tuvs, props = unit["line"], unit["tuvs"], unit["props"]
        for lang, language in (("ru", "Russian"), ("en", "English")):
            if lang not in tuvs:
                raise self.error(f"the <tu> has no {language} <tuv xml:lang=\"{lang}\">"
                                 "<seg>.", line)
        return _Unit(line=line, ru=tuvs["ru"], en=tuvs["en"], doc=props.get(PROP_DOC, ""),
                     index=_int(self.path, line, "sentence index", props.get(PROP_INDEX)),
                     paragraph=_int(self.path, line, "paragraph", props.get(PROP_PARAGRAPH)),
                     title=props.get(PROP_TITLE, ""))


def read_tmx(path: Path) -> list[ImportedDocument]:
    return _group(path, _TmxReader(path).read())


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise FormatError(f"{path}:{line}: not UTF-8 text.") from None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def read_tsv(path: Path) -> list[ImportedDocument]:
    """`ru<TAB>en` per line, backslash escapes as `ruen export --format tsv` writes them."""
    units = []
    for number, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 2:
            raise FormatError(f"{path}:{number}: expected 2 tab-separated fields (Russian, "
                              f"English), found {len(fields)}.")
        units.append(_Unit(number, tsv_unescape(fields[0]), tsv_unescape(fields[1])))
    return _group(path, units)


def read_jsonl(path: Path) -> list[ImportedDocument]:
    """One object per line with "ru" and "en"; "doc", "index", "paragraph" and "title" are
    kept when present (as `ruen export --format jsonl` writes them)."""
    units = []
    for number, line in _lines(path):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path}:{number}: not JSON ({exc.msg}).") from None
        if not isinstance(row, dict):
            raise FormatError(f"{path}:{number}: expected an object with \"ru\" and \"en\".")
        for key in ("ru", "en"):
            if not isinstance(row.get(key), str):
                raise FormatError(f"{path}:{number}: \"{key}\" is missing or not a string.")
        doc = row.get("doc")
        units.append(_Unit(
            number, row["ru"], row["en"], doc="" if doc is None else str(doc),
            index=_int(path, number, "\"index\"", row.get("index")),
            paragraph=_int(path, number, "\"paragraph\"", row.get("paragraph")),
            title=str(row.get("title") or "")))
    return _group(path, units)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("tmx", "xml"):
        return "tmx"
    if suffix in ("jsonl", "json", "ndjson"):
        return "jsonl"
    if suffix in ("tsv", "tab"):
        return "tsv"
    with path.open("rb") as stream:
        start = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "tmx" if start.startswith(b"<") else "jsonl" if start.startswith(b"{") else "tsv"


READERS = {"tmx": read_tmx, "tsv": read_tsv, "jsonl": read_jsonl}


def read_pairs_file(path: str | Path, fmt: str = "auto") -> list[ImportedDocument]:
    """Documents of sentence pairs from a TMX, TSV or JSONL file (FormatError when malformed)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file.")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in READERS:
        raise FormatError(f"{path}: unknown format {fmt!r}; choose {', '.join(IMPORT_FORMATS)}.")
    return READERS[fmt](path)


def import_file(archive: Archive, path: str | Path, *, kind: Kind = "reference",
                fmt: str = "auto") -> list[ImportOutcome]:
    """Read a whole file (nothing is stored if any of it is malformed), then store each of its
    documents' translations as `kind`."""
    if kind not in IMPORT_KINDS:
        raise FormatError(f"--kind {kind}: choose one of {', '.join(IMPORT_KINDS)}.")
    documents = read_pairs_file(path, fmt)
    return [archive.import_document(d.title, str(path), d.pairs, kind) for d in documents]
