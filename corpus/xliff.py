"""XLIFF 1.2 for post-editing in a CAT tool: out with the archive's translations as targets,
back in with the translator's changes stored as post-edits.

Writing: one `<file>` per document, one `<trans-unit id="DOC:INDEX">` per sentence, so that
every unit leads back to its sentence in the archive. The target is the current translation;
its `state` says what it is: `needs-review-translation` for machine translation (a copy from
memory included), `translated` for a post-edit or a reference. A `<note from="ruen">` names the
kind and, for machine translation, the system. `xml:space="preserve"` keeps spaces.

Reading: every `<trans-unit>` whose id is `DOC:INDEX` and whose source is still that sentence
of the archive (case, spacing and ё aside); a target that differs from every translation
stored for the sentence is a post-edit, an unchanged one is left alone, an empty one is
skipped. Inline elements a CAT tool adds or keeps: `<g>` and `<mrk>` are text (their content
is kept, the markup dropped); `<x/>`, `<bx/>`, `<ex/>` are dropped; the native codes `<ph>`,
`<bpt>`, `<ept>`, `<it>` (with `<sub>` inside) are dropped with their content, except ruen's
own `<ph ctype="x-ruen-char">` holding a character XML cannot carry. `<alt-trans>` (matches a
tool offers), `<note>`s and `state` are read but not stored. The whole file is checked first,
then stored in one transaction: a malformed file stores nothing and names its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from corpus.errors import ArchiveError, FormatError, RuenError
from corpus.interchange import CREATION_TOOL, tool_version, xml_text
from corpus.readers import ExpatReader
from corpus.store import Archive
from corpus.text import normalize_source
from corpus.types import Document, SentencePair

NAMESPACE = "urn:oasis:names:tc:xliff:document:1.2"
CHAR_CTYPE = "x-ruen-char"
STATES = {"mt": "needs-review-translation", "post-edit": "translated",
          "reference": "translated"}
_UNIT_ID = re.compile(r"(\d+):(\d+)")
_TEXT = frozenset({"g", "mrk"})  # wrappers: their content is text
_NATIVE = frozenset({"ph", "bpt", "ept", "it", "sub"})  # codes of the original: not text
_EMPTY = frozenset({"x", "bx", "ex"})  # placeholders without content


# ---------------------------------------------------------------- writing


def _attr(text: str) -> str:
    return xml_text(re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)) \
        .replace("\n", "&#10;").replace("\t", "&#9;")


def _segment_text(text: str) -> str:
    return xml_text(text, lambda n, code: f'<ph id="ruen-char-{n}" ctype="{CHAR_CTYPE}">'
                                          f"{code:04X}</ph>")


def _note(pair: SentencePair) -> str:
    note = pair.kind + (" (copied from translation memory)" if pair.origin == "tm" else "")
    return note + (f", {pair.system}" if pair.system else "")


def write_xliff(documents: Iterable[tuple[Document, Iterable[SentencePair]]], out: TextIO
                ) -> int:
    """Write documents with their (current) translations as XLIFF 1.2; returns the number of
    trans-units written."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              f'<xliff version="1.2" xmlns="{NAMESPACE}">\n')
    count = 0
    for document, pairs in documents:
        out.write(f'  <file original="{_attr(document.path or document.title)}" '
                  'source-language="ru" target-language="en" datatype="plaintext" '
                  f'tool-id="{CREATION_TOOL}" product-name="{_attr(document.title)}">\n'
                  f'    <header>\n      <tool tool-id="{CREATION_TOOL}" tool-name='
                  f'"{CREATION_TOOL}" tool-version="{tool_version()}"/>\n'
                  f'      <note from="{CREATION_TOOL}">document {document.id}: '
                  f"{xml_text(document.title)}</note>\n    </header>\n    <body>\n")
        for pair in pairs:
            out.write(f'      <trans-unit id="{pair.doc}:{pair.index}" xml:space="preserve">\n'
                      f'        <source xml:lang="ru">{_segment_text(pair.ru)}</source>\n'
                      f'        <target xml:lang="en" state="{STATES[pair.kind]}">'
                      f"{_segment_text(pair.en)}</target>\n"
                      f'        <note from="{CREATION_TOOL}">{xml_text(_note(pair))}</note>\n'
                      "      </trans-unit>\n")
            count += 1
        out.write("    </body>\n  </file>\n")
    out.write("</xliff>\n")
    return count


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class XliffUnit:
    """A trans-unit as read: the sentence it names and its source and target text."""

    line: int
    doc: int
    index: int
    source: str
    target: str
    state: str = ""


class _XliffReader(ExpatReader):
    """A streaming reader (namespaces folded away) that remembers every unit's line."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, namespace_separator=" ")
        self.units: list[XliffUnit] = []
        self.depth = 0
        self.unit: dict | None = None
        self.alt = 0  # depth inside <alt-trans>: its source and target are not the unit's
        self.buffer: list[str] | None = None  # text of the source or target being read
        self.native = 0  # depth inside native codes (dropped)
        self.char: list[str] | None = None  # inside ruen's <ph ctype="x-ruen-char">

    def read(self) -> list[XliffUnit]:
        self.parse()
        if not self.units:
            raise FormatError(f"{self.path}: no <trans-unit> found.")
        return self.units

    def start(self, qualified: str, attrs: dict[str, str]) -> None:
        name = qualified.rsplit(" ", 1)[-1]
        self.depth += 1
        if self.depth == 1:
            if name != "xliff":
                raise self.error(f"the root element is <{name}>, not <xliff>: not XLIFF.")
            version = attrs.get("version", "")
            if not version.startswith("1."):
                raise self.error(f"XLIFF version {version or '(none)'}; ruen reads XLIFF 1.2 "
                                 "(as `ruen export --format xliff` writes it).")
            return
        if self.buffer is not None:  # inline markup inside <source> or <target>
            if self.char is None and name == "ph" and attrs.get("ctype") == CHAR_CTYPE \
                    and not self.native:
                self.char = []
            elif name in _NATIVE:
                self.native += 1
            elif name not in _TEXT and name not in _EMPTY:
                raise self.error(f"<{name}> inside a segment is not XLIFF 1.2 inline markup.")
            return
        if name == "file":
            for attribute, want in (("source-language", "ru"), ("target-language", "en")):
                lang = attrs.get(attribute, "").split("-")[0].split("_")[0].lower()
                if lang and lang != want:
                    raise self.error(f"{attribute} is {attrs[attribute]!r}; ruen reads "
                                     "Russian→English files.")
        elif name == "trans-unit":
            self.unit = {"line": self.parser.CurrentLineNumber, "id": attrs.get("id", "")}
        elif name == "alt-trans":
            self.alt += 1
        elif name in ("source", "target") and self.unit is not None and not self.alt:
            self.buffer = []
            if name == "target":
                self.unit["state"] = attrs.get("state", "")

    def text(self, data: str) -> None:
        if self.char is not None:
            self.char.append(data)
        elif self.buffer is not None and not self.native:
            self.buffer.append(data)

    def end(self, qualified: str) -> None:
        name = qualified.rsplit(" ", 1)[-1]
        self.depth -= 1
        if self.char is not None and name == "ph":
            code = "".join(self.char)
            self.char = None
            self.buffer.append(  # type: ignore[union-attr]
                self.code_point(code, f'<ph ctype="{CHAR_CTYPE}">'))
        elif self.native and name in _NATIVE:
            self.native -= 1
        elif name in ("source", "target") and self.buffer is not None and not self.native:
            self.unit[name] = "".join(self.buffer)  # type: ignore[index]
            self.buffer = None
        elif name == "alt-trans":
            self.alt -= 1
        elif name == "trans-unit" and self.unit is not None:
            self.units.append(self._unit(self.unit))
            self.unit = None

    def _unit(self, unit: dict) -> XliffUnit:
        line = unit["line"]
        match = _UNIT_ID.fullmatch(unit["id"])
        if match is None:
            raise self.error(f"trans-unit id {unit['id']!r} is not ruen's DOC:INDEX; import "
                             "files made by `ruen export --format xliff`.", line)
        if "source" not in unit:
            raise self.error("the <trans-unit> has no <source>.", line)
        return XliffUnit(line, int(match[1]), int(match[2]), unit["source"],
                         unit.get("target", ""), unit.get("state", ""))


def read_xliff(path: str | Path) -> list[XliffUnit]:
    """The trans-units of an XLIFF 1.2 file (FormatError naming the line when malformed)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file.")
    return _XliffReader(path).read()


@dataclass(frozen=True)
class XliffOutcome:
    """What an XLIFF import did to one document."""

    doc_id: int
    edited: int  # changed targets stored as post-edits
    unchanged: int  # targets equal to a stored translation, or empty: left alone


def is_xliff(path: Path) -> bool:
    """By extension (.xlf, .xliff), else by an `<xliff` root in the first bytes."""
    if path.suffix.lower() in (".xlf", ".xliff"):
        return True
    if path.suffix.lower() not in ("", ".xml") or not path.is_file():
        return False
    with path.open("rb") as stream:
        return b"<xliff" in stream.read(2048)


def import_xliff(archive: Archive, path: str | Path) -> list[XliffOutcome]:
    """Store every changed target of an XLIFF file as a post-edit of its sentence (see the
    module doc); all or nothing."""
    path = Path(path)
    units = read_xliff(path)
    seen: dict[tuple[int, int], int] = {}
    for unit in units:
        if (unit.doc, unit.index) in seen:
            raise FormatError(f"{path}:{unit.line}: sentence {unit.doc}:{unit.index} was "
                              f"already given at line {seen[unit.doc, unit.index]}.")
        seen[unit.doc, unit.index] = unit.line
        try:
            stored = archive.sentence(unit.doc, unit.index)
        except ArchiveError as exc:
            raise FormatError(f"{path}:{unit.line}: {_reason(exc)}") from None
        if normalize_source(stored) != normalize_source(unit.source):
            raise FormatError(f"{path}:{unit.line}: the source of {unit.doc}:{unit.index} is "
                              f"not the archive's sentence ({stored!r}); was the file made "
                              "from another archive?")
    edits = [u for u in units if u.target.strip()]
    stored_flags = archive.add_post_edits([(u.doc, u.index, u.target) for u in edits])
    outcomes: dict[int, list[int]] = {u.doc: [0, 0] for u in units}
    for unit in units:
        outcomes[unit.doc][1] += 1
    for unit, stored in zip(edits, stored_flags, strict=True):
        if stored:
            outcomes[unit.doc][0] += 1
            outcomes[unit.doc][1] -= 1
    return [XliffOutcome(doc, edited, unchanged)
            for doc, (edited, unchanged) in outcomes.items()]


def _reason(error: RuenError) -> str:
    """An archive error's message without the archive path it starts with."""
    return str(error).split(": ", 1)[-1]
