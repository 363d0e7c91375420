"""Long files read in chunks (`open_source`, `read_parts`): the same parts as cutting the whole
text in memory (`split_parts`), memory that does not grow with the file, and errors that name
the file and line before any part is read."""

from __future__ import annotations

import hashlib
import random
import re
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus.ingest as ingest
from corpus.errors import InputError
from corpus.ingest import LongDocument, clean, open_source, read_document, read_parts
from corpus.parts import MAX_PARAGRAPH_PARTS, split_parts
from corpus.types import Document

PART_CHARS = 200_000  # as translate.job uses


@contextmanager
def _chunks(chunk: int, head: int = 1 << 20) -> Iterator[None]:
    """Read files `chunk` bytes at a time, judging the encoding on `head` bytes."""
    with mock.patch.object(ingest, "_CHUNK", chunk), mock.patch.object(ingest, "_HEAD", head):
        yield


def _streamed(path: Path, part_chars: int, html: str = "article") -> list[Document]:
    long = open_source(path, part_chars, html)
    assert isinstance(long, LongDocument)
    parts = list(read_parts(long))
    assert long.parts == len(parts)
    return parts


def _in_memory(path: Path, part_chars: int, html: str = "article") -> list[Document]:
    return list(split_parts(read_document(path, html=html), part_chars))


def _same(streamed: list[Document], whole: list[Document]) -> None:
    assert [(p.text, p.title, p.metadata) for p in streamed] == [
        (p.text, p.title, p.metadata) for p in whole]


# ------------------------------------------------------------------ the same parts
# What cleaning and cutting must get right where a chunk ends: CRLF cut in two, an accent cut
# from its letter (NFD й), soft hyphens between them, U+2029 (a paragraph break), blank lines
# with spaces in them, UTF-8 characters cut in two, long paragraphs and lines.
PIECES = ["Город", " ", " ", "\n", "\n", "\r\n", "\r", "\n \t\n", ".", "». ", "\t", "и\u0306",
          "\u00ad", "\u0301", "\u2029", "ё", "Хама", "x", "😀"]


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=150),
       part_chars=st.integers(3, 60), chunk=st.integers(1, 50), head=st.integers(8, 400),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_a_file_read_in_chunks_is_cut_into_the_parts_of_its_whole_text(
        pieces: list[str], part_chars: int, chunk: int, head: int, encoding: str) -> None:
    text = "Город Хама освобожден " + "".join(pieces)
    with tempfile.TemporaryDirectory() as tmp, _chunks(chunk, head):
        path = Path(tmp) / "a.txt"
        path.write_bytes(text.encode(encoding))
        whole = _in_memory(path, part_chars)
        source = open_source(path, part_chars)
        if isinstance(source, Document):  # at most a part once decoded: read whole
            assert len(source.text) <= part_chars and whole == [source]
            return
        _same(list(read_parts(source)), whole)
        assert source.parts == len(whole)


@settings(max_examples=100, deadline=None)
@given(pieces=st.lists(st.sampled_from(["Город", "Хама", " ", "\n", "\r\n", "\n\n", ". ", "«",
                                        "»", "ё", "Ё", "№ 5"]), max_size=150),
       part_chars=st.integers(3, 60), chunk=st.integers(1, 50),
       encoding=st.sampled_from(["cp1251", "koi8-r"]))
def test_single_byte_files_too(pieces: list[str], part_chars: int, chunk: int,
                               encoding: str) -> None:
    text = "Город Хама полностью освобожден после ожесточенных боев. " + "".join(pieces)
    text = text if encoding == "cp1251" else text.replace("«", '"').replace("»", '"').replace(
        "№", "N")
    with tempfile.TemporaryDirectory() as tmp, _chunks(chunk):
        path = Path(tmp) / "a.txt"
        path.write_bytes(text.encode(encoding))
        try:
            whole = _in_memory(path, part_chars)
        except InputError as exc:  # "ГородГород" is not Russian: refused alike
            with pytest.raises(InputError, match=re.escape(str(exc))):
                open_source(path, part_chars)
            return
        source = open_source(path, part_chars)
        if isinstance(source, LongDocument):
            _same(list(read_parts(source)), whole)


def test_html_read_as_all_its_text_is_read_in_chunks_too(tmp_path: Path) -> None:
    body = "".join(f"<p>Абзац {n}: город &laquo;Хама&raquo;<br>освобожден.</p>\n"
                   f"<script>var x = '<p>{n}</p>';</script>" for n in range(200))
    path = tmp_path / "news.html"
    path.write_text(f"<!DOCTYPE html><html><body><h1>Новости</h1>{body}</body></html>")
    with _chunks(97):
        parts = _streamed(path, 500, html="all")
    _same(parts, _in_memory(path, 500, html="all"))
    assert parts[0].metadata["html"] and parts[0].title == f"Новости (part 1/{len(parts)})"


def test_a_paragraph_many_parts_long_is_cut_after_sentences(tmp_path: Path) -> None:
    text = "".join(f"Предложение номер {n} без конца абзаца. " for n in range(400)).strip()
    path = tmp_path / "one-line.txt"
    path.write_text(text)
    assert len(text) > MAX_PARAGRAPH_PARTS * 500
    with _chunks(1000):
        parts = _streamed(path, 500)
    _same(parts, _in_memory(path, 500))
    assert all(len(p.text) <= 500 for p in parts)
    assert all(p.text.endswith(".") for p in parts)
    # each cut drops the one space it is made at, nothing else
    assert " ".join(p.text for p in parts) == text
    for p in parts:
        assert text[p.metadata["offset"]:p.metadata["offset"] + len(p.text)] == p.text


def test_a_paragraph_longer_than_a_part_but_not_many_is_a_part_alone(tmp_path: Path) -> None:
    long = " ".join(["Очень длинный абзац без пустых строк."] * 30)  # about 1,100 characters
    text = f"Начало.\n\n{long}\n\nКонец."
    path = tmp_path / "a.txt"
    path.write_text(text)
    with _chunks(100):
        parts = _streamed(path, 500)
    assert [p.text for p in parts] == ["Начало.", long, "Конец."]


# ------------------------------------------------------------------ bounded memory

# Paragraphs of Russian made to be cleaned: CRLF line endings, NFD й, soft hyphens.
_WORDS = ["город", "хама", "силы", "режима", "отступают", "под", "давлением", "повстанцев",
          "продолжаем", "двигаться", "на", "юг", "к", "дамаску", "бои\u00adвики", "заи\u0306мище"]


def _write_russian(path: Path, megabytes: int) -> tuple[str, int, int]:
    """Write paragraphs separated by blank lines, a few at a time; (sha256 of the cleaned text,
    its characters, its paragraphs)."""
    rng = random.Random(megabytes)
    pool = [" ".join(" ".join(rng.choice(_WORDS) for _ in range(12)).capitalize() + "."
                     for _ in range(rng.randrange(1, 8))) for _ in range(300)]
    cleaned = [clean(p) for p in pool]
    digest, chars, count, size = hashlib.sha256(), 0, 0, 0
    with path.open("wb") as out:
        while size < megabytes * 1_000_000:
            batch = [rng.randrange(len(pool)) for _ in range(100)]
            data = "".join(pool[i] + "\r\n\r\n" for i in batch).encode()
            out.write(data)
            size += len(data)
            for i in batch:
                text = ("\n\n" if count else "") + cleaned[i]
                digest.update(text.encode())
                chars += len(text)
                count += 1
    digest.update(b"\n\n")  # the file ends with a blank line
    return digest.hexdigest(), chars + 2, count


def _read_all(path: Path) -> tuple[int, str, int, int]:
    """Read a file as `ruen translate` reads a long one, under tracemalloc: (peak bytes,
    sha256 of its parts joined by the blank lines between them, characters, parts)."""
    tracemalloc.start()
    try:
        long = open_source(path, PART_CHARS)
        assert isinstance(long, LongDocument)
        digest, end, count = hashlib.sha256(), 0, 0
        for part in read_parts(long):
            separator = part.metadata["offset"] - end
            assert separator in (0, 2) and len(part.text) <= PART_CHARS
            digest.update(b"\n\n" * (separator == 2) + part.text.encode())
            end = part.metadata["offset"] + len(part.text)
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    digest.update(b"\n\n" * (long.chars - end == 2))
    assert count == long.parts
    return peak, digest.hexdigest(), long.chars, count


def test_a_big_file_is_read_in_memory_that_does_not_grow_with_it(tmp_path: Path) -> None:
    peaks = {}
    for megabytes in (4, 40):
        path = tmp_path / f"big-{megabytes}.txt"
        digest, chars, paragraphs = _write_russian(path, megabytes)
        peaks[megabytes], read_digest, read_chars, parts = _read_all(path)
        assert (read_digest, read_chars) == (digest, chars)  # every character, in order
        assert chars / PART_CHARS <= parts < chars / PART_CHARS * 1.1  # parts are nearly full
        assert paragraphs > parts
    # Reading a 40 MB file whole took 3.5 times its size; in chunks, about ten 1 MB chunks'
    # worth whatever the size (pass 1 counts the parts both ways until it finds a blank line).
    assert peaks[40] < 20_000_000
    assert peaks[40] < 1.25 * peaks[4]


# ------------------------------------------------------------------ errors, before any part

LINES = [f"Строка {n}: город Хама освобожден, силы режима отступают." for n in range(2000)]


def test_a_line_in_another_encoding_half_way_names_the_line(tmp_path: Path) -> None:
    data = b"".join(
        (line.encode("cp1251") if n == 1500 else line.encode()) + b"\n"
        for n, line in enumerate(LINES))
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    with _chunks(4096, head=4096), pytest.raises(InputError) as caught:
        open_source(path, 500)
    assert str(caught.value) == (f"{path}:1501: this line is not UTF-8 but others are: the file "
                                 "mixes encodings. Save it again in one encoding (UTF-8).")
    with pytest.raises(InputError) as whole:
        read_document(path)
    assert str(whole.value) == str(caught.value)  # as when the file is read whole


def test_a_utf8_line_in_a_cp1251_file_is_found_far_from_the_start(tmp_path: Path) -> None:
    data = b"".join((line.encode() if n == 1900 else line.encode("cp1251")) + b"\r\n"
                    for n, line in enumerate(LINES))
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    with _chunks(4096, head=4096), pytest.raises(InputError) as caught:
        open_source(path, 500)
    with pytest.raises(InputError) as whole:
        read_document(path)
    assert str(caught.value) == str(whole.value)
    assert str(caught.value).startswith(f"{path}:1: this line is not UTF-8 but others are")


def test_a_byte_windows_1251_lacks_names_the_line(tmp_path: Path) -> None:
    data = "".join(line + "\n" for line in LINES).encode("cp1251")
    position = data.index(LINES[1234].encode("cp1251"))
    path = tmp_path / "big.txt"
    path.write_bytes(data[:position] + b"\x98" + data[position:])  # undefined in cp1251
    with _chunks(4096, head=4096), pytest.raises(InputError, match=(
            r"big\.txt:1235: this line is not Windows-1251 but the lines before are")):
        open_source(path, 500)


def test_a_single_byte_file_after_a_long_ascii_start_is_detected(tmp_path: Path) -> None:
    # Its head is ASCII, which reads as UTF-8; the first Cyrillic byte turns that around.
    text = "".join(f"line {n}: nothing Russian here yet\n" for n in range(500)) + "\n".join(LINES)
    path = tmp_path / "big.txt"
    path.write_bytes(text.encode("koi8-r"))
    with _chunks(4096, head=4096):
        parts = _streamed(path, 2000)
    _same(parts, _in_memory(path, 2000))
    assert parts[0].metadata["encoding"] == "koi8-r"


def test_whitespace_and_short_text_in_a_big_file(tmp_path: Path) -> None:
    spaces = tmp_path / "spaces.txt"
    spaces.write_bytes(b" \r\n\t" * 1000)
    with pytest.raises(InputError, match="only whitespace"):
        open_source(spaces, 500)
    short = tmp_path / "short.txt"  # 800 bytes, 400 characters
    short.write_text("Город Хама. " * 33 + "Юг.")
    assert open_source(short, 500) == read_document(short)


def test_a_file_that_changes_between_the_passes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("\n\n".join(LINES[:100]))
    long = open_source(path, 500)
    assert isinstance(long, LongDocument)
    path.write_text("\n\n".join(LINES[:100]) + "\n\nЕще абзац.")
    with pytest.raises(InputError, match=r"big\.txt: the file changed while it was being"):
        list(read_parts(long))
