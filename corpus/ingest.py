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
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

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


def _first_bad_utf8_line(data: bytes) -> int | None:
    """The number of the first line that is not UTF-8, if other lines are UTF-8 Cyrillic (the
    file mixes encodings); None when no line is (the file is in one single-byte encoding)."""
    first_bad = None
    utf8_cyrillic = False
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            first_bad = first_bad or number
            continue
        utf8_cyrillic = utf8_cyrillic or bool(_CYRILLIC.search(text))
        if first_bad and utf8_cyrillic:
            break
    return first_bad if utf8_cyrillic else None


def detect(data: bytes, name: str) -> tuple[str, str]:
    """Decode the bytes of a source file: (text, encoding). Raises InputError for binary files
    and text in other encodings. The text is not cleaned yet (see `decode`)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode"
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts like UTF-16 text but is not valid UTF-16.") from None
    _refuse_binary(data, name)
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return _decode_utf8(data[3:] if bom else data), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    if (line := _first_bad_utf8_line(data)) is not None:
        raise InputError(f"{name}:{line}: this line is not UTF-8 but others are: the file mixes "
                         "encodings. Save it again in one encoding (UTF-8).")
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
        sample = text[first_non_ascii:first_non_ascii + _JUDGED_CHARS]
        readings.append((_Reading(sample, encoding), text))
    # Ties go to cp1251, the more common of the two today (max keeps the first).
    best, text = max(readings, key=lambda reading: reading[0].score)
    if problem := best.problem():
        raise InputError(f"{name}: not UTF-8, Windows-1251 or KOI8-R text: read as "
                         f"{_NAMES[best.encoding]} {problem}. Convert it to UTF-8 "
                         "(e.g. `iconv -f ENCODING -t UTF-8 FILE`).")
    return text, best.encoding


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
    paragraphs = (" ".join("".join(parts).split()) for parts in parser.paragraphs)
    return "\n\n".join(p for p in paragraphs if p)


# ---------------------------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------------------------

_NEWLINES = str.maketrans({"\f": "\n", "\v": "\n", "\x85": "\n", "\u2028": "\n",
                           "\u2029": "\n\n"})
# Control characters (category Cc) but tab and newline, and invisible characters that only get
# in the way of translation and search. A regex, not a loop over characters: on a 50 MB file
# the loop's one-character strings took 2.2 GB.
_DROPPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff]")


def clean(text: str) -> str:
    """LF line endings, no control characters but tab and newline, NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_NEWLINES)
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
            raise InputError(f"{name}: HTML without any text, nothing to translate.")
    if not text.strip():
        what = "empty file" if not text else "only whitespace"
        raise InputError(f"{name}: {what}, nothing to translate.")
    return text, metadata


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def _title(text: str, fallback: str) -> str:
    first = re.search(r"\S.*", text)  # the first line with text, without splitting them all
    return (first.group().strip() if first else fallback)[:80].lstrip("# ")


def read_document(path: str | Path, data: bytes | None = None) -> Document:
    """Read one source file (or `data` already read, e.g. stdin, named by `path`)."""
    name = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except IsADirectoryError:
            raise InputError(f"{name}: a folder, not a file.") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror}).") from None
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
