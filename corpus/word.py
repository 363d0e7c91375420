"""Word documents (.docx, python-docx): their text in reading order, and their properties.

Paragraphs and headings as paragraphs, in the order of the body; a table row by row, each cell
a paragraph (a merged cell once); then the footnotes, in order, each a paragraph. The document
properties give title, author, date and language.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from corpus.errors import InputError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


def read_docx(data: bytes, name: str) -> tuple[str, dict[str, Any]]:
    """(text, metadata) of a .docx file's bytes; paragraphs separated by blank lines. Raises
    InputError naming `name` for a file that is not a Word document or has no text."""
    import docx  # only when a .docx is read

    try:
        document = docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError(f"{name}: not a Word document (.docx): not a ZIP archive.") from None
    except KeyError:
        raise InputError(f"{name}: not a Word document (.docx): a ZIP archive without "
                         "Word's parts in it.") from None
    except ValueError as exc:  # a ZIP of another Office kind (.xlsx, .pptx)
        kind = str(exc).rpartition("content type is ")[2].strip("'") or "another kind"
        raise InputError(f"{name}: not a Word document (.docx): its content is {kind}.") \
            from None
    paragraphs = [*_body(document.element.body), *_footnotes(document)]
    text = "\n\n".join(p for p in paragraphs if p)
    if not text:
        raise InputError(f"{name}: a Word document without any text, nothing to translate.")
    core = document.core_properties
    metadata: dict[str, Any] = {"format": "docx"}
    for key, value in (("title", core.title), ("author", core.author),
                       ("language", (core.language or "")[:2].lower())):
        if value and value.strip():
            metadata[key] = " ".join(value.split())
    if core.created is not None:
        metadata["published"] = core.created.date().isoformat()
    return text, metadata


def _body(body: Any) -> Iterator[str]:
    for element in body.iterchildren():
        if element.tag == f"{_W}p":
            yield _paragraph_text(element)
        elif element.tag == f"{_W}tbl":
            yield from _table(element)


def _table(table: Any) -> Iterator[str]:
    for row in table.iterchildren(f"{_W}tr"):
        for cell in row.iterchildren(f"{_W}tc"):
            merge = cell.find(f"{_W}tcPr/{_W}vMerge")
            if merge is not None and merge.get(f"{_W}val") != "restart":
                continue  # the continuation of a cell merged down: its text is above
            for element in cell.iterchildren():
                if element.tag == f"{_W}p":
                    yield _paragraph_text(element)
                elif element.tag == f"{_W}tbl":
                    yield from _table(element)


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text: runs joined, tabs and breaks as spaces, whitespace collapsed."""
    pieces = []
    for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}noBreakHyphen"):
        if node.tag == f"{_W}t":
            pieces.append(node.text or "")
        else:
            pieces.append("-" if node.tag == f"{_W}noBreakHyphen" else " ")
    return " ".join("".join(pieces).split())


def _footnotes(document: Any) -> Iterator[str]:
    from lxml import etree

    for rel in document.part.rels.values():
        if rel.reltype == _FOOTNOTES and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            for note in root.iterchildren(f"{_W}footnote"):
                if note.get(f"{_W}type") in (None, "normal"):  # not the separator lines
                    yield " ".join(_paragraph_text(p) for p in note.iter(f"{_W}p")).strip()
