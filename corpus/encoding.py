"""Telling what a source file is: refusing binary files, and finding the encoding of text.

`sniff` refuses what is not text, saying what it looks like (PDF, ZIP and so .docx/.epub,
images, other binary files, UTF-16 without a byte-order mark), then detects the encoding:
UTF-16 with a byte-order mark and UTF-8 (with or without BOM) decode strictly; otherwise
Windows-1251 and KOI8-R are both tried and the one whose letters look most like Russian wins
(letter frequencies, and no lower-case letter followed by a capital in the middle of a word:
both encodings map Russian bytes to letters, but to different ones). It refuses a file that
mixes UTF-8 lines with lines in another encoding (naming the first line that is not UTF-8:
decoding line by line would need a guess per line, and short lines guess badly), and text that
only decodes as cp1251/KOI8-R garbage (Latin-1 German, Greek or Arabic code pages, random
bytes).
"""

from __future__ import annotations

import math
import re
from contextlib import suppress

from corpus.errors import InputError

ENCODINGS = ("utf-8", "cp1251", "koi8-r")

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
ENCODING_NAMES = {"cp1251": "Windows-1251", "koi8-r": "KOI8-R"}
_JUDGED_CHARS = 65536
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_WORD = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile("[\u0400-\u04ff]")
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
        words = [w for w in _WORD.findall(self.text) if CYRILLIC.search(w)]
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


class Utf8Lines:
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
                self.cyrillic = bool(CYRILLIC.search(data[start:checked].decode("utf-8")))
        self.lines += data.count(b"\n")
        return self.first_bad if self.cyrillic else None


def _first_bad_utf8_line(data: bytes) -> int | None:
    """The number of the first line that is not UTF-8, if other lines are UTF-8 Cyrillic (the
    file mixes encodings); None when no line is (the file is in one single-byte encoding)."""
    return Utf8Lines().feed(data)


def mixes_encodings(name: str, line: int) -> InputError:
    return InputError(f"{name}:{line}: this line is not UTF-8 but others are: the file mixes "
                      "encodings. Save it again in one encoding (UTF-8).")


def single_byte_encoding(data: bytes, name: str) -> str:
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
                         f"{ENCODING_NAMES[best.encoding]} {problem}. Convert it to UTF-8 "
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
        raise mixes_encodings(name, line)
    return single_byte_encoding(data, name)


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
