"""Reading source files: bytes to clean Russian text.

What `decode` does, in order:

1. Refuses what is not text, saying what it looks like: PDF, ZIP (and so .docx/.epub), images,
   other binary files (NUL bytes or many control bytes), UTF-16 without a byte-order mark.
2. Detects the encoding: UTF-16 with a byte-order mark and UTF-8 (with or without BOM) decode
   strictly; otherwise Windows-1251 and KOI8-R are both tried and the one whose letters look
   most like Russian wins (letter frequencies, and no lower-case letter followed by a capital in
   the middle of a word: both encodings map Russian bytes to letters, but to different ones).
   A UTF-8 file cut off in the middle of its last character (`head -c`) loses that character.
3. Refuses what decodes but is not Russian text in one of those encodings: a file that mixes
   UTF-8 lines with lines in another encoding (the message names the first line that is not
   UTF-8: decoding line by line would need a guess per line, and short lines guess badly), and
   text that only decodes as cp1251/KOI8-R garbage (Latin-1 German, Greek or Arabic code pages,
   random bytes).
4. Cleans: CRLF and CR become LF; HTML is reduced to its text (see `html_to_text`); control
   characters are removed except tab and newline (form feed, vertical tab and Unicode line and
   paragraph separators become newlines; soft hyphens and zero-width spaces go); NFC.
5. Refuses an empty or whitespace-only result.

A file longer than a part (`open_source`) is never held whole: it is read a megabyte at a time,
twice. Its encoding is judged on its first megabyte as above, and the first pass decodes the
rest strictly (a line in another encoding half-way is refused naming the line, before any of
the file is translated), cleans each chunk cut after a line break (so that no CRLF or accented
letter is split) and counts the parts `split_parts` would cut its whole text into. The second
pass (`read_parts`) yields those parts one at a time. HTML is read the same way: HTMLParser
takes its input in pieces, so only the paragraph still open is held.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from corpus.errors import InputError
from corpus.types import Document

DEFAULT_PATTERNS = ("*.txt", "*.md")
ENCODINGS = ("utf-8", "cp1251", "koi8-r")
STDIN = "-"

# ---------------------------------------------------------------------------------------------
# Binary files
# ---------------------------------------------------------------------------------------------

# Leading bytes of file types people mistake for text, and what to tell them.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (.docx, .odt and .epub files are ZIP archives too)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc, .xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program (ELF executable)"),
)
_SAMPLE = 8192
# Control bytes that never occur in text files (tab, newlines, form feed, ESC and ^Z excluded).
_CONTROL_BYTES = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x1A)) | {0x1C, 0x1D,
                                                                                 0x1E, 0x1F}
_MAX_CONTROL_SHARE = 0.02


def _refuse_binary(data: bytes, name: str) -> None:
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise InputError(f"{name}: this is {what}, not a text file; "
                             "save it as plain text (UTF-8) first.")
    if data.startswith(b"RIFF") or data[4:8] == b"ftyp":
        raise InputError(f"{name}: this is an audio, video or image file, not a text file.")
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        if utf16 := _utf16_without_bom(sample):
            raise InputError(f"{name}: UTF-16 text without a byte-order mark; save it as UTF-8 "
                             f"(e.g. `iconv -f {utf16} -t UTF-8`).")
        raise InputError(f"{name}: a binary file (it contains NUL bytes), not text.")
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    if controls > max(3, _MAX_CONTROL_SHARE * len(sample)):
        raise InputError(f"{name}: a binary file ({controls} control bytes in its first "
                         f"{len(sample)}), not text.")


def _utf16_without_bom(sample: bytes) -> str:
    """"UTF-16LE" or "UTF-16BE" (iconv's names) if the sample decodes as that into Latin or
    Cyrillic text (any two bytes are some CJK character, so "printable" would not do)."""
    sample = sample[:len(sample) // 2 * 2]
    for encoding, iconv in (("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        latin_or_cyrillic = sum(1 for c in text if (c.isprintable() or c in "\n\r\t") and (
            c < "\u0250" or "\u0400" <= c <= "\u04ff" or "\u2000" <= c <= "\u206f"))
        if text and latin_or_cyrillic / len(text) > 0.95:
            return iconv
    return ""


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------

# Share (%) of each letter in Russian text, from the usual corpus counts.
LETTER_FREQUENCY = dict(zip(
    "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
    (10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98, 2.81, 2.62,
     2.01, 1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73, 0.64, 0.48, 0.36, 0.32,
     0.26, 0.04, 0.04), strict=True))
_LOG_FREQUENCY = {c: math.log(f / 100) for c, f in LETTER_FREQUENCY.items()}
_RARE = math.log(1e-4)        # a letter Russian hardly uses (Ukrainian і, Serbian ђ, ...)
_CASE_BREAK = math.log(1e-2)  # "мИР": lower case then a capital inside a word
# Non-ASCII characters besides letters that Russian text in cp1251 or KOI8-R contains.
COMMON_SYMBOLS = frozenset("«»—–…№„“”‘’•°§©®™\xa0·€±")
# Below this mean log-frequency per letter, text is not Russian in the encoding tried; Russian
# scores about -3.1 on a whole article and above -3.6 on any 20 letters of one.
_MIN_MEAN_LOG_FREQUENCY = -4.7
_MIN_LETTERS_TO_JUDGE = 20
_MAX_CASE_BREAK_SHARE = 0.03
_MAX_ODD_SYMBOL_SHARE = 0.05
_MAX_MIXED_WORD_SHARE = 0.3
_NAMES = {"cp1251": "Windows-1251", "koi8-r": "KOI8-R"}
_JUDGED_CHARS = 65536
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_WORD = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")


class _Reading:
    """How Russian a decoding of some bytes looks."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.encoding = encoding
        self.score = 0.0
        self.letters = self.odd = self.non_ascii = self.case_breaks = 0
        previous = ""
        for char in text:
            if char < "\x80":
                previous = char
                continue
            self.non_ascii += 1
            lower = char.lower()
            if lower in _LOG_FREQUENCY:
                self.letters += 1
                self.score += _LOG_FREQUENCY[lower]
                if char != lower and previous.isalpha() and previous.islower():
                    self.case_breaks += 1
                    self.score += _CASE_BREAK
            elif "\u0400" <= char <= "\u04ff":
                self.letters += 1
                self.score += _RARE
            elif char not in COMMON_SYMBOLS:
                self.odd += 1
                self.score += _RARE
            previous = char

    def problem(self) -> str | None:
        """Why this does not read as Russian text, or None."""
        if self.odd > max(2, _MAX_ODD_SYMBOL_SHARE * self.non_ascii):
            return "it is full of symbols that Russian text does not use"
        words = [w for w in _WORD.findall(self.text) if _CYRILLIC.search(w)]
        mixed = sum(1 for w in words if _LATIN.search(w))
        if mixed and mixed > _MAX_MIXED_WORD_SHARE * len(words):
            return "it has Latin letters inside Cyrillic words (Latin-1 or Windows-1252 text?)"
        if self.letters >= _MIN_LETTERS_TO_JUDGE and (
                self.score / self.letters < _MIN_MEAN_LOG_FREQUENCY
                or self.case_breaks > _MAX_CASE_BREAK_SHARE * self.letters):
            return "its letters are not in the proportions of Russian"
        return None


def _decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return data[:exc.start].decode("utf-8")  # cut off inside its last character
        raise


# Bytes that start a UTF-8 Cyrillic letter (U+0400-U+04FF): a line without them has no Cyrillic
# as UTF-8, so only lines with them need decoding to learn whether a file mixes encodings.
_UTF8_CYRILLIC = re.compile(rb"[\xd0-\xd3][\x80-\xbf]")


class _Utf8Lines:
    """Bytes fed a line or more at a time: the number of the first line that is not UTF-8 and
    whether some line is UTF-8 with Cyrillic in it (then the file mixes encodings)."""

    def __init__(self) -> None:
        self.lines = 0  # line breaks fed so far
        self.first_bad: int | None = None
        self.cyrillic = False

    def feed(self, data: bytes) -> int | None:
        """The first line that is not UTF-8, once a UTF-8 line with Cyrillic has been seen."""
        if self.first_bad is None:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.first_bad = self.lines + data.count(b"\n", 0, exc.start) + 1
        checked = 0  # lines are decoded one at a time, from the first Cyrillic-looking bytes
        for match in _UTF8_CYRILLIC.finditer(data):
            if self.cyrillic:
                break
            if match.start() < checked:
                continue
            start = data.rfind(b"\n", 0, match.start()) + 1
            checked = data.find(b"\n", match.end())
            checked = len(data) if checked < 0 else checked
            with suppress(UnicodeDecodeError):  # that line is not UTF-8
                self.cyrillic = bool(_CYRILLIC.search(data[start:checked].decode("utf-8")))
        self.lines += data.count(b"\n")
        return self.first_bad if self.cyrillic else None


def _first_bad_utf8_line(data: bytes) -> int | None:
    """The number of the first line that is not UTF-8, if other lines are UTF-8 Cyrillic (the
    file mixes encodings); None when no line is (the file is in one single-byte encoding)."""
    return _Utf8Lines().feed(data)


def _mixes_encodings(name: str, line: int) -> InputError:
    return InputError(f"{name}:{line}: this line is not UTF-8 but others are: the file mixes "
                      "encodings. Save it again in one encoding (UTF-8).")


def _single_byte(data: bytes, name: str) -> str:
    """cp1251 or KOI8-R, whichever reads more like Russian; raises InputError if neither does."""
    readings = []
    first_non_ascii = next(_NON_ASCII.finditer(data)).start()  # not UTF-8, so there is one
    for encoding in ENCODINGS[1:]:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # 64K characters from the first non-ASCII byte on tell the encoding as well as 50 MB do,
        # in a fraction of the time (the reading looks at each character in Python). Single-byte
        # encodings: byte offsets are character offsets.
        readings.append(_Reading(text[first_non_ascii:first_non_ascii + _JUDGED_CHARS],
                                 encoding))
    # Ties go to cp1251, the more common of the two today (max keeps the first).
    best = max(readings, key=lambda reading: reading.score)
    if problem := best.problem():
        raise InputError(f"{name}: not UTF-8, Windows-1251 or KOI8-R text: read as "
                         f"{_NAMES[best.encoding]} {problem}. Convert it to UTF-8 "
                         "(e.g. `iconv -f ENCODING -t UTF-8 FILE`).")
    return best.encoding


def sniff(data: bytes, name: str) -> str:
    """The encoding of a source file (one of `ENCODINGS`, "utf-8-sig" or "utf-16"), judged on
    its bytes or on a leading sample of them cut between characters. Raises InputError for
    binary files, text in other encodings and files that mix UTF-8 with another encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode"
        return "utf-16"
    _refuse_binary(data, name)
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        _decode_utf8(data[3:] if bom else data)
        return "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    if (line := _first_bad_utf8_line(data)) is not None:
        raise _mixes_encodings(name, line)
    return _single_byte(data, name)


def detect(data: bytes, name: str) -> tuple[str, str]:
    """Decode the bytes of a source file: (text, encoding). Raises InputError for binary files
    and text in other encodings. The text is not cleaned yet (see `decode`)."""
    encoding = sniff(data, name)
    if encoding == "utf-16":
        try:
            return data.decode("utf-16"), encoding
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts like UTF-16 text but is not valid UTF-16.") from None
    if encoding == "utf-8-sig":
        return _decode_utf8(data[3:]), encoding
    if encoding == "utf-8":
        return _decode_utf8(data), encoding
    return data.decode(encoding), encoding


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_HTML_DOCUMENT = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?(?:p|div|br|span|a|h[1-6]|li|ul|ol|table|tr|td|article|section"
                       r"|strong|em|b|i|blockquote|head|title|meta)\b[^>]*>", re.IGNORECASE)
BLOCK_TAGS = frozenset({
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "table", "tr",
    "article", "section", "blockquote", "header", "footer", "main", "aside", "figure",
    "figcaption", "pre", "hr", "dt", "dd", "title"})
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


def looks_like_html(text: str, name: str = "") -> bool:
    """An `.html` file, a whole HTML document, or text that starts with a tag and has several
    (so that Markdown with one `<br>` stays Markdown)."""
    if name.lower().endswith(_HTML_SUFFIXES) or _HTML_DOCUMENT.search(text[:_SAMPLE]):
        return True
    return text.lstrip().startswith("<") and len(_HTML_TAG.findall(text[:_SAMPLE])) >= 2


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[str]] = [[]]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.paragraphs.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.paragraphs.append([])

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.paragraphs[-1].append(data)


def html_to_text(html: str) -> str:
    """The text of an HTML page: scripts and styles dropped, entities resolved, each
    block element (p, div, br, headings, list items, ...) a paragraph of its own, whitespace
    inside a paragraph collapsed to single spaces. No layout beyond that."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "\n\n".join(_texts_of(parser.paragraphs))


def _texts_of(paragraphs: Iterable[list[str]]) -> Iterator[str]:
    """The paragraphs that have text, whitespace collapsed."""
    return (text for parts in paragraphs if (text := " ".join("".join(parts).split())))


def _html_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """`clean(html_to_text(...))` of HTML fed in pieces, in pieces: the paragraphs finished by
    each piece (HTMLParser is incremental; only the paragraph still open is kept)."""
    parser = _TextExtractor()
    started = False
    for piece in chain(pieces, [None]):
        if piece is None:
            parser.close()
            finished, parser.paragraphs = parser.paragraphs, []
        else:
            parser.feed(piece)
            finished, parser.paragraphs = parser.paragraphs[:-1], parser.paragraphs[-1:]
        texts = list(_texts_of(finished))
        if texts:
            # one piece per piece fed, not one per paragraph: the part cutter copies its
            # buffer on every piece it is given
            yield ("\n\n" if started else "") + clean("\n\n".join(texts))
            started = True


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


def decode(data: bytes, name: str) -> str:
    """Bytes of a source file to clean text (see the module docstring for every step)."""
    return _read(data, name)[0]


def _read(data: bytes, name: str) -> tuple[str, dict[str, object]]:
    if not data:
        raise InputError(f"{name}: empty file, nothing to translate.")
    text, encoding = detect(data, name)
    metadata: dict[str, object] = {"encoding": encoding}
    text = clean(text)
    if looks_like_html(text, name):
        text = clean(html_to_text(text))
        metadata["html"] = True
    if not text.strip():
        raise _nothing_to_translate(name, empty=not text, html="html" in metadata)
    return text, metadata


def _nothing_to_translate(name: str, empty: bool, html: bool) -> InputError:
    what = "HTML without any text" if html else "empty file" if empty else "only whitespace"
    return InputError(f"{name}: {what}, nothing to translate.")


# ---------------------------------------------------------------------------------------------
# Paragraphs and parts
# ---------------------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LINE = re.compile(r"\n")
_SPACES = re.compile(r"[ \t]*")


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph. With blank lines in the text, they separate paragraphs
    (single newlines are soft wraps); without any, every line is a paragraph."""
    separator = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE
    position = 0
    for match in separator.finditer(text):
        yield position, match.start()
        position = match.end()
    yield position, len(text)


# A paragraph longer than this many parts is cut into parts, so that a part always fits in
# memory (it may be a whole book without a blank line); a shorter one longer than a part is a
# part alone, as it always was.
MAX_PARAGRAPH_PARTS = 5
# Where such a paragraph is cut, best first: at a line break, at a space after a sentence, at
# any space; else anywhere. Each matches the one character that the cut drops.
_CUTS = (re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s|(?<=[.!?…][»”\")])\s"),
         re.compile(r"\s"))


def _cut(window: str, limit: int) -> tuple[int, int]:
    """Where to cut a paragraph that starts `window`: (end of the piece cut off, start of the
    rest), the piece at most `limit` characters long."""
    for pattern in _CUTS:
        if last := deque(pattern.finditer(window, 1, limit + 1), maxlen=1):
            return last[0].start(), last[0].end()
    return limit, limit


class _PartCutter:
    """Cuts a text into parts: (offset, text) of runs of whole paragraphs at most `part_chars`
    long; a longer paragraph is a part alone, one longer than MAX_PARAGRAPH_PARTS parts is cut
    into parts at most `part_chars` long (see `_CUTS`).

    The text is fed in pieces, and how it is divided never changes the parts: fed whole, this
    cuts a document in memory (`split_parts`); fed piece by piece, a file read in chunks
    (`read_parts`), holding one part and the paragraph that follows it."""

    def __init__(self, part_chars: int, blank_lines: bool) -> None:
        self.part_chars = part_chars
        self.separator = _BLANK_LINE if blank_lines else _LINE
        self.text = ""  # the text from `base` on: the part being gathered and what follows it
        self.base = 0
        self.span: tuple[int, int] | None = None  # (start, end) of the part being gathered
        self.paragraph = 0  # where the paragraph being read starts
        self.cutting = False  # that paragraph is too long to keep: cut it into parts
        self.scan = 0  # no separator starts between `paragraph` and here
        self.separators = 0  # found so far

    def feed(self, piece: str) -> Iterator[tuple[int, str]]:
        self.text += piece
        while match := self.separator.search(self.text, self.scan - self.base):
            start, end = self.base + match.start(), self.base + match.end()
            self.separators += 1
            yield from self._paragraph(start)
            self.paragraph = self.scan = end
            self.cutting = False
        # A blank line may begin at the last line break if only spaces follow it so far.
        newline = self.text.rfind("\n", self.paragraph - self.base)
        if newline >= 0 and _SPACES.fullmatch(self.text, newline + 1):
            self.scan = self.base + newline
        else:
            self.scan = self.base + len(self.text)
        yield from self._cut_long(self.scan)
        keep = self.span[0] if self.span else self.paragraph
        self.text, self.base = self.text[keep - self.base:], keep

    def close(self) -> Iterator[tuple[int, str]]:
        yield from self._paragraph(self.base + len(self.text))
        yield from self._flush()

    def _paragraph(self, end: int) -> Iterator[tuple[int, str]]:
        """The paragraph being read ends at `end`."""
        yield from self._cut_long(end)
        if self.span and end - self.span[0] <= self.part_chars:
            self.span = (self.span[0], end)
        else:
            yield from self._flush()
            self.span = (self.paragraph, end)

    def _cut_long(self, end: int) -> Iterator[tuple[int, str]]:
        """Once what is known of the paragraph being read (up to `end`) is longer than
        MAX_PARAGRAPH_PARTS parts, cut parts off it until what is left fits in one. Only the
        next part_chars decide where, so cutting while it is read or once it is whole cuts it
        at the same places."""
        while end - self.paragraph > (self.part_chars if self.cutting
                                      else MAX_PARAGRAPH_PARTS * self.part_chars):
            self.cutting = True
            yield from self._flush()
            start = self.paragraph - self.base
            piece, rest = _cut(self.text[start:start + self.part_chars + 1], self.part_chars)
            yield self.paragraph, self.text[start:start + piece]
            self.paragraph += rest

    def _flush(self) -> Iterator[tuple[int, str]]:
        """The part gathered so far, if any."""
        if self.span:
            (start, end), self.span = self.span, None
            yield start, self.text[start - self.base:end - self.base]


def split_parts(document: Document, part_chars: int) -> Iterator[Document]:
    """The document itself when short; else parts of at most `part_chars` characters made of
    whole paragraphs (see `_PartCutter`), titled "title (part k/n)", with "part", "parts" and
    "offset" (in the document's text) in their metadata. `read_parts` cuts a long file the
    same way without holding it."""
    if len(document.text) <= part_chars:
        yield document
        return
    cutter = _PartCutter(part_chars, blank_lines=bool(_BLANK_LINE.search(document.text)))
    spans = [(offset, offset + len(text))
             for offset, text in chain(cutter.feed(document.text), cutter.close())]
    for k, (start, end) in enumerate(spans, start=1):
        yield _part(document, k, len(spans), start, document.text[start:end])


def _part(whole: Document | LongDocument, k: int, n: int, offset: int, text: str) -> Document:
    return Document(path=whole.path, title=f"{whole.title} (part {k}/{n})", text=text,
                    metadata={**whole.metadata, "part": k, "parts": n, "offset": offset})


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

_FIRST_TEXT = re.compile(r"\S.*")


def _title(text: str, fallback: str) -> str:
    first = _FIRST_TEXT.search(text)  # the first line with text, without splitting them all
    return (first.group().strip() if first else fallback)[:80].lstrip("# ")


def read_document(path: str | Path, data: bytes | None = None) -> Document:
    """Read one source file (or `data` already read, e.g. stdin, named by `path`)."""
    name = str(path)
    if data is None:
        with _open(path, name) as file:
            data = _read_bytes(file, -1, name)
    text, metadata = _read(data, name)
    return Document(path=name, title=_title(text, Path(name).stem), text=text, metadata=metadata)


def find_sources(inputs: Iterable[str], patterns: Iterable[str] = DEFAULT_PATTERNS
                 ) -> Iterator[str]:
    """Expand folders (recursively, by pattern) into files, in a stable order; `-` is stdin."""
    patterns = tuple(patterns)
    for item in inputs:
        if item == STDIN:
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
            if not found:
                raise InputError(f"{item}: no {' or '.join(patterns)} files in this folder.")
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


def open_source(path: str | Path, part_chars: int) -> Document | LongDocument:
    """A source file: read whole (`read_document`) when it has at most `part_chars` characters;
    a longer one is read through once, a chunk at a time, checking all of it decodes and
    counting its parts, and comes back as a `LongDocument` (see `read_parts`). Raises
    InputError as `read_document` does (for a mixed encoding, naming the line)."""
    name = str(path)
    with _open(path, name) as file:
        stat = os.fstat(file.fileno())
        head = _read_bytes(file, _HEAD, name)
    if stat.st_size <= part_chars:  # never more characters than bytes
        return read_document(path)
    stamp = (stat.st_size, stat.st_mtime_ns)
    encoding = sniff(head if len(head) == stat.st_size else _whole_characters(head), name)
    try:
        long = _scan(name, stamp, encoding, head, part_chars)
    except _Redetect as turn:
        with _open(path, name) as file:
            file.seek(turn.offset)
            encoding = _single_byte(_read_bytes(file, _HEAD, name), name)
        long = _scan(name, stamp, encoding, head, part_chars)
    # Short once decoded (UTF-8 Russian is two bytes a letter): read whole, like any short file.
    return read_document(path) if long is None else long


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
        cutter = _PartCutter(document.part_chars, document.blank_lines)
        k = 0
        for piece in chain(_pieces(document.path, document.codec, document.bom,
                                   "html" in document.metadata), [None]):
            for offset, text in cutter.feed(piece) if piece is not None else cutter.close():
                k += 1
                if k > document.parts:
                    raise changed
                yield _part(document, k, document.parts, offset, text)
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
    blank = _PartCutter(part_chars, blank_lines=True)
    lines = _PartCutter(part_chars, blank_lines=False)
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
    return _html_pieces(pieces) if html else pieces


def _decoded(name: str, codec: str, bom: int) -> Iterator[str]:
    """The text of a file, decoded strictly a chunk at a time, in pieces that end at a line
    break where there is one: `clean` then sees every CRLF whole, and never an accent apart
    from its letter (NFC). Raises InputError naming the line of a byte that does not decode
    or of a UTF-8 line in a single-byte file; `_Redetect` when UTF-8 was a wrong guess."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    # Single-byte encodings decode any byte: UTF-8 lines among theirs are looked for as
    # `sniff` looks for them in a short file.
    utf8_lines = _Utf8Lines() if codec in ENCODINGS[1:] else None
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
            cyrillic = cyrillic or bool(_CYRILLIC.search(text))
            newlines += text.count("\n")
            if utf8_lines is not None:
                line += chunk
                end = len(line) if final else line.rfind(b"\n") + 1
                if not end and len(line) > _CHUNK:  # a very long line: judged in pieces
                    end = len(line)
                if (number := utf8_lines.feed(line[:end])) is not None:
                    raise _mixes_encodings(name, number)
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
        return _mixes_encodings(name, line)
    if codec.startswith("utf-16"):
        return InputError(f"{name}:{line}: not valid UTF-16, though the file starts like "
                          "UTF-16 text.")
    return InputError(f"{name}:{line}: this line is not {_NAMES[codec]} but the lines before "
                      "are: the file mixes encodings. Save it again in one encoding (UTF-8).")


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
