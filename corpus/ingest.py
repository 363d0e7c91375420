"""Reading source files: bytes to clean Russian text.

What `decode` does, in order:

1. Refuses what is not text and detects the encoding: UTF-8, Windows-1251, KOI8-R or UTF-16
   with a byte-order mark (`corpus.encoding.sniff`). A UTF-8 file cut off in the middle of its
   last character (`head -c`) loses that character.
2. Cleans: CRLF and CR become LF; HTML is reduced to its text (`corpus.html`); control
   characters are removed except tab and newline (form feed, vertical tab and Unicode line and
   paragraph separators become newlines; soft hyphens and zero-width spaces go); NFC.
3. Refuses an empty or whitespace-only result.

A file longer than a part (`open_source`) is never held whole: it is read a megabyte at a time,
twice. Its encoding is judged on its first megabyte as above, and the first pass decodes the
rest strictly (a line in another encoding half-way is refused naming the line, before any of
the file is translated), cleans each chunk cut after a line break (so that no CRLF or accented
letter is split) and counts the parts `corpus.parts.split_parts` would cut its whole text into.
The second pass (`read_parts`) yields those parts one at a time. HTML is read the same way:
HTMLParser takes its input in pieces, so only the paragraph still open is held.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from corpus.encoding import (
    CYRILLIC,
    ENCODING_NAMES,
    ENCODINGS,
    Utf8Lines,
    detect,
    mixes_encodings,
    single_byte_encoding,
    sniff,
)
from corpus.errors import InputError
from corpus.html import (
    HtmlMode,
    extract_article,
    html_pieces,
    html_to_text,
    is_html_document,
    looks_like_html,
)
from corpus.parts import PartCutter, part_of
from corpus.text import short_title
from corpus.types import Document

DEFAULT_PATTERNS = ("*.txt", "*.md", "*.html", "*.htm", "*.docx", "*.pdf", "*.rss", "*.atom")
STDIN = "-"

# ---------------------------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------------------------

_NEWLINES = str.maketrans({"\f": "\n", "\v": "\n", "\x85": "\n", "\u2028": "\n",
                           "\u2029": "\n\n"})
# Control characters (category Cc) but tab and newline, and invisible characters that only get
# in the way of translation and search. A regex, not a loop over characters: on a 50 MB file
# the loop's one-character strings took 2.2 GB.
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff]")
_OTHER_NEWLINES = re.compile("[\f\v\x85\u2028\u2029]")


def clean(text: str) -> str:
    """LF line endings, no control characters but tab and newline, NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _OTHER_NEWLINES.search(text):  # str.translate takes 20 times as long as looking
        text = text.translate(_NEWLINES)
    return unicodedata.normalize("NFC", _DROPPED.sub("", text))


def decode(data: bytes, name: str, html: HtmlMode = "article") -> str:
    """Bytes of a source file to clean text (see the module docstring for every step)."""
    return _read(data, name, html)[0]


def _read(data: bytes, name: str, html: HtmlMode = "article", url: str | None = None
          ) -> tuple[str, dict[str, object]]:
    if not data:
        raise InputError(f"{name}: empty file, nothing to translate.")
    text, encoding = detect(data, name)
    metadata: dict[str, object] = {"encoding": encoding}
    text = clean(text)
    if looks_like_html(text, name):
        metadata["html"] = True
        if html == "article" and is_html_document(text):
            try:
                text, found = extract_article(text, name, url)
            except InputError:
                if not html_to_text(text).strip():  # no text at all, main or not
                    raise _nothing_to_translate(name, empty=False, html=True) from None
                raise
            metadata.update(found)
            text = clean(text)
        else:
            text = clean(html_to_text(text))
    if not text.strip():
        raise _nothing_to_translate(name, empty=not text, html="html" in metadata)
    return text, metadata


def _nothing_to_translate(name: str, empty: bool, html: bool) -> InputError:
    what = "HTML without any text" if html else "empty file" if empty else "only whitespace"
    return InputError(f"{name}: {what}, nothing to translate.")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

_FIRST_TEXT = re.compile(r"\S.*")


def _title(text: str, fallback: str) -> str:
    first = _FIRST_TEXT.search(text)  # the first line with text, without splitting them all
    return short_title((first.group() if first else fallback).strip().lstrip("# "))


def read_document(path: str | Path, data: bytes | None = None, *, html: HtmlMode = "article",
                  url: str | None = None) -> Document:
    """Read one source file (or `data` already read, e.g. stdin or a page fetched from `url`,
    named by `path`). A web page is reduced to its main text (`html="all"`: all its text)."""
    name = str(path)
    if data is None:
        with _open(path, name) as file:
            data = _read_bytes(file, -1, name)
    text, metadata = _read(data, name, html, url)
    return document_of(name, text, metadata)


def document_of(name: str, text: str, metadata: dict[str, Any]) -> Document:
    """A Document titled by its metadata's title, else by its first line."""
    title = str(metadata.get("title") or "")[:200] or _title(text, Path(name).stem)
    return Document(path=name, title=title, text=text, metadata=metadata)


def find_sources(inputs: Iterable[str], patterns: Iterable[str] = DEFAULT_PATTERNS
                 ) -> Iterator[str]:
    """Expand folders (recursively, by pattern) into files, in a stable order; `-` is stdin."""
    patterns = tuple(patterns)
    for item in inputs:
        if item == STDIN or item.lower().startswith(("http://", "https://")):
            yield item  # stdin and URLs are read by `corpus.sources.read_source`
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
            if not found:
                kinds = ", ".join(patterns[:-1]) + " or " * (len(patterns) > 1) + patterns[-1]
                raise InputError(f"{item}: no {kinds} files in this folder.")
            yield from (str(p) for p in found)
        elif path.exists():
            yield item
        else:
            raise InputError(f"{item}: no such file or folder.")


# ---------------------------------------------------------------------------------------------
# Long files: read in chunks, twice, never whole
# ---------------------------------------------------------------------------------------------

_CHUNK = 1 << 20  # bytes read at a time
_HEAD = 1 << 20  # leading bytes the encoding is judged on (`sniff` judges 64K characters)
_SAFE_CUT_SEARCH = 4096  # characters looked through for a place to cut a very long line
_TITLE_LINE = 4096  # characters of the first line kept for its title (80 are used)
MAX_PAGE_BYTES = 64 << 20  # a web page read whole to find its main text


@dataclass(frozen=True)
class LongDocument:
    """A source file longer than a part, as a first pass through it found it: it decodes from
    start to end, has text, and has `parts` parts. `read_parts` reads them in a second pass."""

    path: str
    title: str
    metadata: dict[str, Any] = field(compare=False, hash=False)
    parts: int
    chars: int
    part_chars: int
    blank_lines: bool  # blank lines separate its paragraphs (else every line is one)
    codec: str  # what decodes the bytes after the byte-order mark
    bom: int  # bytes of the byte-order mark
    stamp: tuple[int, int]  # size and modification time: a file that changes is noticed


class _Redetect(Exception):
    """A file taken for UTF-8 has a byte that is not, and no Cyrillic before it: it is in a
    single-byte encoding after an ASCII start longer than the sample judged."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset  # of that byte in the file


def open_source(path: str | Path, part_chars: int, html: HtmlMode = "article"
                ) -> Document | LongDocument:
    """A source file: read whole (`read_document`) when it has at most `part_chars` characters;
    a longer one is read through once, a chunk at a time, checking all of it decodes and
    counting its parts, and comes back as a `LongDocument` (see `read_parts`). Raises
    InputError as `read_document` does (for a mixed encoding, naming the line).

    A web page whose main text is wanted is read whole however long (the extractor needs the
    whole page), up to MAX_PAGE_BYTES."""
    name = str(path)
    with _open(path, name) as file:
        stat = os.fstat(file.fileno())
        head = _read_bytes(file, _HEAD, name)
    if html == "article" and _is_page(head, name):
        if stat.st_size > MAX_PAGE_BYTES:
            raise InputError(f"{name}: a page of {stat.st_size >> 20} MB is too long to find "
                             "its main text in; `--html all` reads all of its text, in parts.")
        return read_document(path, html=html)
    if stat.st_size <= part_chars:  # never more characters than bytes
        return read_document(path, html=html)
    stamp = (stat.st_size, stat.st_mtime_ns)
    encoding = sniff(head if len(head) == stat.st_size else _whole_characters(head), name)
    try:
        long = _scan(name, stamp, encoding, head, part_chars)
    except _Redetect as turn:
        with _open(path, name) as file:
            file.seek(turn.offset)
            encoding = single_byte_encoding(_read_bytes(file, _HEAD, name), name)
        long = _scan(name, stamp, encoding, head, part_chars)
    # Short once decoded (UTF-8 Russian is two bytes a letter): read whole, like any short file.
    return read_document(path, html=html) if long is None else long


def _is_page(head: bytes, name: str) -> bool:
    """A whole HTML page, judged on its first bytes (tags are ASCII in every encoding read)."""
    start = head[:1 << 16].decode("latin-1")
    return looks_like_html(start, name) and is_html_document(start)


def read_parts(document: LongDocument) -> Iterator[Document]:
    """The parts of a long file, read a chunk at a time: the same parts `split_parts` cuts the
    file's whole text into, titled and numbered alike (so a file stored in parts before is
    found again). Raises InputError if the file changed since `open_source`."""
    changed = InputError(f"{document.path}: the file changed while it was being translated; "
                         "run the same command again (stored parts are not translated twice).")
    try:
        with _open(document.path, document.path) as file:
            stat = os.fstat(file.fileno())
        if (stat.st_size, stat.st_mtime_ns) != document.stamp:
            raise changed
        cutter = PartCutter(document.part_chars, document.blank_lines)
        k = 0
        for piece in chain(_pieces(document.path, document.codec, document.bom,
                                   "html" in document.metadata), [None]):
            for offset, text in cutter.feed(piece) if piece is not None else cutter.close():
                k += 1
                if k > document.parts:
                    raise changed
                yield part_of(document, k, document.parts, offset, text)
    except _Redetect:
        raise changed from None
    if k != document.parts:
        raise changed


def _scan(name: str, stamp: tuple[int, int], encoding: str, head: bytes, part_chars: int
          ) -> LongDocument | None:
    """The first pass: decode all, count characters and parts, find the title. None if the
    text turns out no longer than a part."""
    codec, bom = _codec(encoding, head)
    html = looks_like_html(clean(head[bom:].decode(codec, "replace")), name)
    # Whether blank lines separate paragraphs is known only once one is found (or the file
    # ends), so the parts are counted both ways until then.
    blank = PartCutter(part_chars, blank_lines=True)
    lines = PartCutter(part_chars, blank_lines=False)
    blank_parts = line_parts = chars = 0
    first_line = ""  # from the first character that is not a space, up to a line break
    for piece in _pieces(name, codec, bom, html):
        chars += len(piece)
        if "\n" not in first_line and len(first_line) < _TITLE_LINE:
            first_line = (first_line + piece if first_line else piece.lstrip())[:_TITLE_LINE]
        blank_parts += sum(1 for _ in blank.feed(piece))
        if not blank.separators:  # the other count is needed no longer once one is found
            line_parts += sum(1 for _ in lines.feed(piece))
    blank_parts += sum(1 for _ in blank.close())
    if not first_line:
        raise _nothing_to_translate(name, empty=not chars, html=html)
    title = _title(first_line, "")
    if chars <= part_chars:
        return None
    blank_lines = blank.separators > 0
    if not blank_lines:
        line_parts += sum(1 for _ in lines.close())
    metadata: dict[str, Any] = {"encoding": encoding, **({"html": True} if html else {})}
    return LongDocument(path=name, title=title, metadata=metadata,
                        parts=blank_parts if blank_lines else line_parts, chars=chars,
                        part_chars=part_chars, blank_lines=blank_lines, codec=codec, bom=bom,
                        stamp=stamp)


def _codec(encoding: str, head: bytes) -> tuple[str, int]:
    """What decodes a file in `encoding` chunk by chunk, and how many bytes to skip first."""
    if encoding == "utf-16":  # the byte-order mark tells which
        return ("utf-16-be" if head.startswith(b"\xfe\xff") else "utf-16-le"), 2
    if encoding == "utf-8-sig":
        return "utf-8", 3
    return encoding, 0


def _whole_characters(head: bytes) -> bytes:
    """A leading sample without the UTF-8 character it may end in the middle of."""
    for i in range(len(head) - 1, max(len(head) - 4, -1), -1):
        if head[i] & 0xC0 != 0x80:  # not a continuation byte
            return head[:i] if head[i] >= 0xC0 else head
    return head


def _pieces(name: str, codec: str, bom: int, html: bool) -> Iterator[str]:
    """The clean text of a long file (as `read_document` would give it), in pieces."""
    pieces = (clean(text) for text in _decoded(name, codec, bom))
    return (clean(text) for text in html_pieces(pieces)) if html else pieces


def _decoded(name: str, codec: str, bom: int) -> Iterator[str]:
    """The text of a file, decoded strictly a chunk at a time, in pieces that end at a line
    break where there is one: `clean` then sees every CRLF whole, and never an accent apart
    from its letter (NFC). Raises InputError naming the line of a byte that does not decode
    or of a UTF-8 line in a single-byte file; `_Redetect` when UTF-8 was a wrong guess."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    # Single-byte encodings decode any byte: UTF-8 lines among theirs are looked for as
    # `sniff` looks for them in a short file.
    utf8_lines = Utf8Lines() if codec in ENCODINGS[1:] else None
    cyrillic = codec != "utf-8"  # seen (only UTF-8 can turn out to be a wrong guess)
    newlines = 0  # decoded so far, for the number of the line an error is on
    held, line = "", b""  # the text after the last line break; that line's bytes (utf8_lines)
    position = bom  # of the next chunk in the file
    with _open(name, name) as file:
        file.seek(bom)
        while True:
            chunk = _read_bytes(file, _CHUNK, name)
            final = not chunk
            pending = decoder.getstate()[0]  # bytes of a character the last chunk cut
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                if not (final and codec == "utf-8" and exc.reason == "unexpected end of data"):
                    if not cyrillic:
                        raise _Redetect(position - len(pending) + exc.start) from None
                    before = exc.object[:exc.start].decode(codec, "replace")
                    raise _undecodable(name, newlines + before.count("\n") + 1, codec) from None
                text = ""  # cut off inside its last character (`head -c`): lost, as in `detect`
            position += len(chunk)
            cyrillic = cyrillic or bool(CYRILLIC.search(text))
            newlines += text.count("\n")
            if utf8_lines is not None:
                line += chunk
                end = len(line) if final else line.rfind(b"\n") + 1
                if not end and len(line) > _CHUNK:  # a very long line: judged in pieces
                    end = len(line)
                if (number := utf8_lines.feed(line[:end])) is not None:
                    raise mixes_encodings(name, number)
                line = line[end:]
            text = held + text
            cut = len(text) if final else text.rfind("\n") + 1
            if not cut and len(text) > _CHUNK:
                cut = _safe_cut(text)
            held = text[cut:]
            if cut:
                yield text[:cut]
            if final:
                return


def _safe_cut(text: str) -> int:
    """Where to cut a line longer than a chunk so that `clean` does the same to it cut: before
    an ASCII character or a Russian letter (under NFC nothing composes with what precedes
    them) near its end; 0 (not yet) if there is none; anywhere but inside a CRLF if there is
    none in the last _SAFE_CUT_SEARCH characters of a line that long."""
    for i in range(len(text) - 1, max(0, len(text) - _SAFE_CUT_SEARCH), -1):
        if text[i] < "\x80" or "А" <= text[i] <= "я":
            return i
    return len(text) - text.endswith("\r") if len(text) > _SAFE_CUT_SEARCH else 0


def _undecodable(name: str, line: int, codec: str) -> InputError:
    if codec == "utf-8":
        return mixes_encodings(name, line)
    if codec.startswith("utf-16"):
        return InputError(f"{name}:{line}: not valid UTF-16, though the file starts like "
                          "UTF-16 text.")
    return InputError(f"{name}:{line}: this line is not {ENCODING_NAMES[codec]} but the lines "
                      "before are: the file mixes encodings. Save it again in one encoding "
                      "(UTF-8).")


def _open(path: str | Path, name: str) -> BinaryIO:
    try:
        return open(path, "rb")  # the callers close it
    except IsADirectoryError:
        raise InputError(f"{name}: a folder, not a file.") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror}).") from None


def _read_bytes(file: BinaryIO, size: int, name: str) -> bytes:
    try:
        return file.read(size)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror}).") from None
