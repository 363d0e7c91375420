"""Sentence pairs in and out of the archive as TMX 1.4b, TSV, JSON lines and Moses files.

Export then import gives back the same sentences, translations, documents and positions: text
is written so that any character survives (TMX escapes `\\r` as `&#13;` and characters XML 1.0
cannot hold as `<ph type="x-ruen-char">` with their code point; TSV backslash-escapes tabs and
newlines). Reading (corpus.readers) checks everything and reports the file and line of the
first problem; here the rows read become documents and are stored.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TextIO

from corpus.errors import FormatError
from corpus.readers import (
    CHAR_PH,
    FORMATS,
    PROP_DOC,
    PROP_INDEX,
    PROP_KIND,
    PROP_ORIGIN,
    PROP_PARAGRAPH,
    PROP_SCORE,
    PROP_SYSTEM,
    PROP_TITLE,
    Row,
    read_rows,
)
from corpus.store import Archive, ImportOutcome
from corpus.types import Kind, SentencePair

IMPORT_FORMATS = FORMATS
IMPORT_KINDS: tuple[Kind, ...] = ("reference", "post-edit")
TMX_DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
CREATION_TOOL = "ruen"
# Characters XML 1.0 cannot carry at all, and \r, which parsers turn into \n unless escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def tool_version() -> str:
    try:
        return metadata.version("ruen")
    except metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- writing


def xml_text(text: str, char: Callable[[int, int], str] | None = None) -> str:
    """Text as XML character data. \\r is escaped (parsers turn a raw one into \\n); characters
    XML 1.0 cannot carry become `char(number, code point)` markup, by default a TMX
    `<ph type="x-ruen-char">` holding the code point in hex."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("\r", "&#13;")
    char = char or (lambda _, code: f'<ph type="{CHAR_PH}">{code:04X}</ph>')
    numbers = itertools.count(1)
    return _NOT_XML.sub(lambda m: char(next(numbers), ord(m.group())), text)


def _prop_text(text: str) -> str:
    # props cannot hold inline elements: characters XML cannot carry are dropped from titles
    return xml_text(_NOT_XML.sub("", text))


def tmx_props(title: str, pair: SentencePair) -> list[tuple[str, str]]:
    """The <prop>s of one unit: where the sentence is, and what kind of translation it has
    (so that an import of the file stores each translation as the kind it was)."""
    props = [(PROP_DOC, str(pair.doc)), (PROP_INDEX, str(pair.index)),
             (PROP_PARAGRAPH, str(pair.paragraph)), (PROP_TITLE, title),
             (PROP_ORIGIN, pair.origin), (PROP_KIND, pair.kind)]
    if pair.system:
        props.append((PROP_SYSTEM, pair.system))
    if pair.score is not None:
        props.append((PROP_SCORE, f"{pair.score:.4f}"))
    return props


def write_tmx(units: Iterable[tuple[str, SentencePair]], out: TextIO,
              documents: Mapping[int | None, Mapping[str, str]] | None = None) -> int:
    """Write (document title, pair) units as a TMX 1.4b document, one <tu> per translation;
    returns how many. A sentence with several translations (`--kind all`) has a <tu> for
    each, the second one's tuid ending in `-2`, and so on. A pair's document's fields in
    `documents` (by doc id, `corpus.formats.document_fields`; the title aside) become
    `x-ruen-FIELD` props of each of its units."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + TMX_DOCTYPE + "\n")
    out.write('<tmx version="1.4">\n')
    out.write(f'  <header creationtool="{CREATION_TOOL}" creationtoolversion="{tool_version()}"'
              ' segtype="sentence" o-tmf="ruen" adminlang="en" srclang="ru"'
              ' datatype="plaintext"/>\n  <body>\n')
    count = 0
    seen: dict[tuple[int | None, int], int] = {}
    for title, pair in units:
        number = seen[pair.doc, pair.index] = seen.get((pair.doc, pair.index), 0) + 1
        tuid = f"{pair.doc}-{pair.index}" + (f"-{number}" if number > 1 else "")
        props = tmx_props(title, pair)
        props += [(f"x-ruen-{k}", v) for k, v in (documents or {}).get(pair.doc, {}).items()
                  if k != "title"]
        out.write(f'    <tu tuid="{tuid}">\n')
        out.writelines(f'      <prop type="{k}">{_prop_text(v)}</prop>\n' for k, v in props)
        out.write(f'      <tuv xml:lang="ru"><seg>{xml_text(pair.ru)}</seg></tuv>\n'
                  f'      <tuv xml:lang="en"><seg>{xml_text(pair.en)}</seg></tuv>\n'
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


def _group(path: Path, rows: Iterable[Row], kind: Kind | None) -> list[ImportedDocument]:
    """Rows into documents, in the order first seen. Each translation is stored as `kind`, or
    when that is None as the kind the file gives (ruen's exports), else as a reference. A
    position given twice is an error, unless the file gives kinds: then it is one more
    translation of the same sentence (`ruen export --kind all`)."""
    documents: dict[str, ImportedDocument] = {}
    seen: dict[tuple[str, int], Row] = {}
    next_index: dict[str, int] = {}
    for row in rows:
        if not row.ru.strip() or not row.en.strip():
            side = "Russian" if not row.ru.strip() else "English"
            raise FormatError(f"{path}:{row.line}: the {side} text is empty.")
        document = documents.setdefault(row.doc, ImportedDocument(row.doc, row.title))
        index = next_index.get(row.doc, 0) if row.index is None else row.index
        first = seen.get((row.doc, index))
        if first is not None and not (row.kind and first.kind and first.ru == row.ru):
            raise FormatError(
                f"{path}:{row.line}: duplicate unit: sentence {index} of document "
                f"{row.doc or '(none)'} was already given at line {first.line}.")
        seen.setdefault((row.doc, index), row)
        next_index[row.doc] = max(next_index.get(row.doc, 0), index + 1)
        paragraph = index if row.paragraph is None else row.paragraph
        stored: Kind = kind or row.kind or "reference"  # type: ignore[assignment]
        from_file = kind is None and row.kind
        document.pairs.append(SentencePair(
            doc=None, index=index, paragraph=paragraph, ru=row.ru, en=row.en, kind=stored,
            origin=(row.origin or stored) if from_file else stored,
            system=row.system if from_file and stored == "mt" else "",
            score=row.score if from_file and stored == "mt" else None))
    if not documents:
        raise FormatError(f"{path}: no sentence pairs found.")
    for document in documents.values():
        if not document.title:
            document.title = path.stem + (f" #{document.key}" if len(documents) > 1 else "")
    return list(documents.values())


def read_pairs_file(path: str | Path, fmt: str = "auto", kind: Kind | None = None
                    ) -> list[ImportedDocument]:
    """Documents of sentence pairs from a TMX, TSV or JSONL file (FormatError when malformed)."""
    return _group(Path(path), read_rows(path, fmt), kind)


def import_file(archive: Archive, path: str | Path, *, kind: Kind | None = None,
                fmt: str = "auto") -> list[ImportOutcome]:
    """Read a whole file (nothing is stored if any of it is malformed), then store each of its
    documents' translations: as `kind`, or when None as the file says (ruen's own exports
    mark each unit's kind), else as references."""
    if kind is not None and kind not in IMPORT_KINDS:
        raise FormatError(f"--kind {kind}: choose one of {', '.join(IMPORT_KINDS)}.")
    outcomes: list[ImportOutcome] = []
    for document in read_pairs_file(path, fmt, kind):
        outcomes.append(archive.import_document(  # two documents of a file stay two
            document.title, str(path), document.pairs, exclude=[o.doc_id for o in outcomes]))
    return outcomes
