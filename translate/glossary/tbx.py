"""Termbases in TBX, as terminology tools write them, read into glossary entries.

Both generations of the format are read, with or without namespaces (element names are taken
without their prefix) and in any encoding XML allows (UTF-8 or UTF-16 with a BOM, or as the XML
declaration says):
- TBX v2 / ISO 30042:2008 (`martif`): `termEntry` > `langSet` > `tig` or `ntig/termGrp` >
  `term`, as MultiTerm, Weblate and IATE export it;
- TBX v3 / ISO 30042:2019 (TBX-Basic, TBX-Core, TBX-Min): `conceptEntry` > `langSec` >
  `termSec` > `term`, data categories as `termNote type="..."` (DCA style) or as elements of
  their own such as `basic:administrativeStatus` (DCT style).

A concept (entry) gives one glossary entry per Russian term, all with the same English target:
the English term marked preferred (`administrativeStatus` preferredTerm-admn-sts, or the older
`normativeAuthorization` preferredTerm), else the first English term that is not deprecated.
The other English terms that are not deprecated are admitted renderings (correct too, never
rewritten); deprecated and superseded ones are variants, rewritten to the target.

A Russian term in several concepts (`отправить`: push a commit, upload a file) is one entry:
the first concept's target, the other concepts' English admitted. A deprecated English term of
one concept that another concept of the same Russian term admits stays correct (it is dropped
from the variants). Concepts without Russian are ignored, concepts without usable English are
skipped, and both are counted in the `TermbaseSummary`; only one concept calling the same
English term both correct and deprecated is refused.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import FormatError
from translate.glossary.entries import Entry, term_key

CONCEPTS = frozenset({"termEntry", "conceptEntry"})
LANGUAGE_SECTIONS = frozenset({"langSet", "langSec"})
TERM_GROUPS = frozenset({"tig", "ntig", "termSec"})
STATUS_CATEGORIES = frozenset({"administrativeStatus", "normativeAuthorization"})
#: `descrip` types that say what a concept is (others, like IATE's reliabilityCode or a
#: context sentence, would only clutter the note).
NOTE_TYPES = frozenset({"", "definition", "subjectField", "explanation", "note"})
#: Status values (lower case, `-admn-sts` removed) and what they mean here.
STATUSES = {"preferredterm": "preferred", "admittedterm": "admitted",
            "deprecatedterm": "deprecated", "supersededterm": "deprecated",
            "standardizedterm": "preferred", "preferred": "preferred", "admitted": "admitted",
            "deprecated": "deprecated", "superseded": "deprecated"}
#: Language codes as termbases write them (`ru`, `ru-RU`, `RU-RU`, `rus`) to ours.
LANGUAGES = {"rus": "ru", "eng": "en"}


@dataclass(frozen=True)
class Term:
    text: str
    lang: str
    status: str  # preferred | admitted | deprecated | "" (not said)
    line: int


@dataclass
class _Group:
    """The term being read (a tig, ntig or termSec; `bare` for a term written without one)."""

    line: int
    text: str = ""
    status: str = ""
    bare: bool = False


@dataclass
class _Concept:
    line: int
    terms: list[Term] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TermbaseSummary:
    """What became of a termbase's concepts: `merged` and `skipped` are sentences for people,
    each naming its line."""

    path: str
    concepts: int
    entries: int
    without_russian: int
    merged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def line(self) -> str:
        parts = [f"{self.path}: {self.concepts} concepts, {self.entries} entries"]
        if self.merged:
            parts.append(f"{len(self.merged)} Russian term(s) of several concepts merged "
                         "(the first concept's target, the others' English admitted)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} concept(s) skipped")
        if self.without_russian:
            parts.append(f"{self.without_russian} concept(s) without Russian ignored")
        return "; ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "concepts": self.concepts, "entries": self.entries,
                "without_russian": self.without_russian, "merged": list(self.merged),
                "skipped": list(self.skipped)}


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _language(code: str) -> str:
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return LANGUAGES.get(base, base)


def _status(value: str) -> str:
    return STATUSES.get(value.strip().lower().removesuffix("-admn-sts"), "")


class _Reader:
    """Collects concepts from expat events; one instance per file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parser = xml.parsers.expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.concepts: list[_Concept] = []
        self.concept: _Concept | None = None
        self.lang = ""
        self.group: _Group | None = None
        self.text: list[str] | None = None  # character data of the element being collected
        self.collecting = ""  # which: term | status | note

    def read(self, data: bytes) -> list[_Concept]:
        try:
            self.parser.Parse(data, True)
        except xml.parsers.expat.ExpatError as exc:
            raise FormatError(f"{self.path}:{exc.lineno}: not valid TBX/XML "
                              f"({xml.parsers.expat.ErrorString(exc.code)}).") from None
        return self.concepts

    def start(self, name: str, attrs: dict[str, str]) -> None:
        name = _local(name)
        line = self.parser.CurrentLineNumber
        if name in CONCEPTS:
            self.concept = _Concept(line)
            self.concepts.append(self.concept)
        elif name in LANGUAGE_SECTIONS:
            self.lang = _language(attrs.get("xml:lang") or attrs.get("lang") or "")
        elif name in TERM_GROUPS:
            self.group = _Group(line)
        elif self.text is not None:
            return  # inline markup inside a term or note: its text is collected
        elif name == "term":
            self._collect("term", line)
        elif name in STATUS_CATEGORIES or (
                name in ("termNote", "descrip", "admin")
                and attrs.get("type", "") in STATUS_CATEGORIES):
            self._collect("status", line)
        elif (name == "note" or (name == "descrip" and attrs.get("type", "") in NOTE_TYPES)
              ) and self.lang in ("", "ru", "en"):
            self._collect("note", line)

    def _collect(self, what: str, line: int) -> None:
        self.collecting, self.text = what, []
        if what == "term" and self.group is None:  # a bare term, without tig/termSec
            self.group = _Group(line, bare=True)

    def chars(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        name = _local(name)
        if self.text is not None and name in ("term", "note", "termNote", "descrip", "admin",
                                              *STATUS_CATEGORIES):
            value = " ".join("".join(self.text).split())
            what, self.text = self.collecting, None
            if what == "note" and value and self.concept is not None:
                self.concept.notes.append(value)
            elif what == "status" and self.group is not None:
                self.group.status = _status(value)
            elif what == "term" and self.group is not None:
                self.group.text = value
                if self.group.bare:
                    self._add_term()
            return
        if name in TERM_GROUPS and self.group is not None:
            self._add_term()
        elif name in LANGUAGE_SECTIONS:
            self.lang = ""
        elif name in CONCEPTS:
            self.concept = None

    def _add_term(self) -> None:
        group, self.group = self.group, None
        if group is not None and group.text and self.concept is not None:
            self.concept.terms.append(Term(group.text, self.lang, group.status, group.line))


@dataclass
class _Merged:
    """One Russian term (by key) as it is being built from one or more concepts."""

    ru: Term
    target: Term
    admitted: dict[str, Term] = field(default_factory=dict)
    variants: dict[str, Term] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: the target of each concept with this Russian term, and the line of the term there
    targets: list[tuple[Term, int]] = field(default_factory=list)


def read_tbx(path: Path, data: bytes) -> tuple[list[Entry], TermbaseSummary]:
    """The entries of a TBX file, in file order, and what was merged or skipped."""
    concepts = _Reader(path).read(data)
    if not concepts:
        raise FormatError(f"{path}:1: no termEntry or conceptEntry elements; not a TBX "
                          "glossary.")
    languages = sorted({t.lang or "?" for c in concepts for t in c.terms})
    for needed, name in (("ru", "Russian"), ("en", "English")):
        if needed not in languages:
            raise FormatError(
                f"{path}:1: no {name} terms; the file has terms in "
                f"{', '.join(languages) or 'no language'}, a glossary needs ru and en.")
    merged: dict[str, _Merged] = {}
    skipped: list[str] = []
    without_russian = 0
    for concept in concepts:
        ru = [t for t in concept.terms if t.lang == "ru"]
        en = [t for t in concept.terms if t.lang == "en"]
        if not ru:
            without_russian += 1
            continue
        good = [t for t in en if t.status != "deprecated"]
        if not good:
            skipped.append(f"{path}:{concept.line}: {ru[0].text!r} has "
                           + ("no English term" if not en else "only deprecated English terms"))
            continue
        bad = [t for t in en if t.status == "deprecated"]
        for wrong in bad:
            right = next((t for t in good if t.text == wrong.text), None)
            if right is not None:
                raise FormatError(
                    f"{path}:{wrong.line}: {wrong.text!r} is deprecated here but "
                    f"{right.status or 'listed'} at line {right.line} in the same concept; "
                    "keep one of the two.")
        target = next((t for t in good if t.status == "preferred"), good[0])
        for term in ru:
            item = merged.setdefault(term_key(term.text), _Merged(term, target))
            item.targets.append((target, term.line))
            for t in good:
                if t.text != item.target.text:
                    item.admitted.setdefault(t.text, t)
            for t in bad:
                item.variants.setdefault(t.text, t)
            item.notes += [n for n in concept.notes if n not in item.notes]
    entries, merges = [], []
    for item in merged.values():
        kept = {text: t for text, t in item.variants.items()
                if text not in item.admitted and text != item.target.text}
        distinct = list(dict.fromkeys(t.text for t, _ in item.targets))
        if len(distinct) > 1:
            lines = ", ".join(str(line) for _, line in item.targets)
            merges.append(f"{path}:{item.ru.line}: {item.ru.text!r} → {distinct[0]!r}, "
                          f"also {', '.join(map(repr, distinct[1:]))} (lines {lines})")
        entries.append(Entry(ru=item.ru.text, en=item.target.text, note="; ".join(item.notes),
                             variants=tuple(kept), origin=f"{path}:{item.ru.line}",
                             admitted=tuple(item.admitted)))
    summary = TermbaseSummary(str(path), len(concepts), len(entries), without_russian,
                              tuple(merges), tuple(skipped))
    return entries, summary
