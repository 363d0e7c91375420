"""Ingest: encodings detected, binary and foreign files refused with a message naming the file,
text cleaned (line endings, control characters, HTML, NFC)."""

from __future__ import annotations

import os
import random
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import InputError
from corpus.ingest import STDIN, decode, find_sources, read_document

NEWS = ("Город Хама полностью освобожден после ожесточенных боев. Силы режима отступают к Хомсу, "
        "заявил представитель командования. Жители встречают бойцов на улицах.")
QUOTED = "Он заявил: «Мы продолжаем двигаться на юг» — и ушел. Потери составили 5 тыс. человек."
CAPS = "СРОЧНО: ХАМА ПОЛНОСТЬЮ ОСВОБОЖДЕНА, СИЛЫ РЕЖИМА ОТСТУПАЮТ"

# (text, encoding it is saved in): each must come back exactly, with the encoding recognised.
ENCODED = [
    (NEWS, "utf-8"),
    (NEWS, "utf-8-sig"),
    (NEWS, "cp1251"),
    (NEWS, "koi8-r"),
    (NEWS, "utf-16"),           # with a byte-order mark, as Windows Notepad saves "Unicode"
    (QUOTED, "cp1251"),         # «», — and № live in cp1251's upper half
    (QUOTED.replace("«", '"').replace("»", '"').replace("—", "-"), "koi8-r"),
    # Short texts.
    ("Да.", "cp1251"),
    ("Да.", "koi8-r"),
    ("Мир", "cp1251"),
    ("Мир", "koi8-r"),
    ("Хама освобождена.", "cp1251"),
    ("Хама освобождена.", "koi8-r"),
    # Few or no lower-case letters: KOI8-R and cp1251 swap case when read as each other.
    (CAPS, "cp1251"),
    (CAPS, "koi8-r"),
    ("ВОЙНА И МИР", "cp1251"),
    ("ВОЙНА И МИР", "koi8-r"),
    ("СИРИЯ", "cp1251"),
    ("СИРИЯ", "koi8-r"),
    # Mostly English with some Russian; pure ASCII is UTF-8.
    ("Reuters reports: Хама освобождена. Regime forces retreat.", "cp1251"),
    ("Regime forces retreat from Hama.", "utf-8"),
]


@pytest.mark.parametrize(("text", "encoding"), ENCODED)
def test_encodings_are_detected(text: str, encoding: str) -> None:
    document = read_document("article.txt", text.encode(encoding))
    assert document.text == text
    expected = {"utf-16": "utf-16", "utf-8-sig": "utf-8-sig"}.get(encoding, encoding)
    if text.isascii():
        expected = "utf-8"
    assert document.metadata["encoding"] == expected


RUSSIAN_WORDS = "\n".join([
    "город силы режима отступают под давлением повстанцев мы продолжаем двигаться на юг",
    "представитель командования подтвердил освобождение в четверг начались новые",
    "столкновения провинции Хомс Хама Дамаск коалиция взяла контроль над деревнями",
    "министр обороны заявил о тактическом отступлении"]).split()


# At least 20 letters, what ingest needs to judge (corpus.encoding._MIN_LETTERS_TO_JUDGE): shorter
# all-caps KOI8-R ("ГОРОД ЮГ.") reads as plausible lower-case cp1251 ("зптпд аз."), and no
# letter statistics can tell the two apart.
@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.sampled_from(RUSSIAN_WORDS), min_size=2, max_size=30).filter(
           lambda words: sum(map(len, words)) >= 20),
       encoding=st.sampled_from(["utf-8", "cp1251", "koi8-r"]), upper=st.booleans())
def test_any_russian_words_decode_in_each_encoding(words: list[str], encoding: str,
                                                   upper: bool) -> None:
    text = " ".join(words).capitalize() + "."
    text = text.upper() if upper else text
    assert decode(text.encode(encoding), "a.txt") == text


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200).filter(lambda t: "<" not in t))
def test_any_utf8_text_comes_back_clean(text: str) -> None:
    try:
        decoded = decode(text.encode("utf-8"), "a.txt")
    except InputError as exc:  # only whitespace once control characters are gone
        assert str(exc).startswith("a.txt: ")
        return
    assert decoded == unicodedata.normalize("NFC", decoded)
    assert "\r" not in decoded
    assert all(c in "\n\t" or unicodedata.category(c) != "Cc" for c in decoded)


_rng = random.Random(7)
RANDOM = bytes(_rng.randrange(256) for _ in range(4000))
RANDOM_HIGH = bytes(_rng.randrange(0x80, 0x100) for _ in range(4000))
GERMAN = "Die Größe der Übung ist für Mädchen schön. Grüße aus München."

# (bytes, what the one-line message must say). Every message starts with the file's name.
REFUSED = [
    pytest.param(b"", "empty file", id="empty"),
    pytest.param(b"\xef\xbb\xbf", "empty file", id="bom-only"),
    pytest.param(b" \n\t\r\n  ", "only whitespace", id="whitespace"),
    pytest.param(b"\x00\x01\x02binary\x00data", "binary file (it contains NUL bytes)", id="nul"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document", id="pdf"),
    pytest.param(b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "ZIP archive (.docx", id="zip"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image", id="png"),
    pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image", id="jpeg"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", "GIF image", id="gif"),
    pytest.param(b"{\\rtf1\\ansi\\ansicpg1251 \\'c3\\'ee\\'f0}", "RTF document", id="rtf"),
    pytest.param(NEWS.encode("utf-16-le"), "UTF-16 text without a byte-order mark",
                 id="utf16le-no-bom"),
    pytest.param(NEWS.encode("utf-16-be"), "iconv -f UTF-16BE", id="utf16be-no-bom"),
    pytest.param(RANDOM, "binary file", id="random-bytes"),
    pytest.param(RANDOM.replace(b"\x00", b"\x01"), "binary file", id="random-bytes-no-nul"),
    pytest.param(RANDOM_HIGH, "not UTF-8, Windows-1251 or KOI8-R text", id="random-high-bytes"),
    pytest.param(GERMAN.encode("latin-1"), "Latin letters inside Cyrillic words", id="latin1"),
    pytest.param("Größe".encode("latin-1"), "Latin letters inside Cyrillic words",
                 id="latin1-one-word"),
    pytest.param("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και μεγάλη πόλη.".encode("cp1253"),
                 "not in the proportions of Russian", id="greek-cp1253"),
    pytest.param("قوات المعارضة تعلن السيطرة الكاملة على مدينة حماة بعد معارك".encode("cp1256"),
                 "not UTF-8, Windows-1251 or KOI8-R text", id="arabic-cp1256"),
    pytest.param("Первая строка.\nВторая строка.\n".encode()
                 + "Третья строка.\nЧетвертая.\n".encode("cp1251"),
                 "article.txt:3: this line is not UTF-8 but others are: the file mixes encodings",
                 id="utf8-then-cp1251"),
    pytest.param(b"<html><body><script>var x = 1;</script></body></html>",
                 "HTML without any text", id="html-without-text"),
]


@pytest.mark.parametrize(("data", "message"), REFUSED)
def test_refused_with_a_message_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_document("article.txt", data)
    text = str(caught.value)
    assert text.startswith("article.txt")
    assert message in text
    assert "\n" not in text


# (input text, cleaned text)
CLEANED = [
    ("Строка один.\r\nСтрока два.\rСтрока три.", "Строка один.\nСтрока два.\nСтрока три."),
    ("Йод и ёж", "Йод и ёж"),  # decomposed й and ё (NFD) become single characters (NFC)
    ("Го\x07род\x1b Ха\x7fма\x9b.\tДа.", "Город Хама.\tДа."),
    ("Осво\u00adбож\u200bден\ufeff.", "Освобожден."),
    ("Страница 1.\fСтраница 2.\u2029Абзац.", "Страница 1.\nСтраница 2.\n\nАбзац."),
    ("Хама 🎉 освобождена ✊🏽.", "Хама 🎉 освобождена ✊🏽."),
    ("Заголовок\n\nТекст с <br> одним тегом остается Markdown.",
     "Заголовок\n\nТекст с <br> одним тегом остается Markdown."),
    ("<!DOCTYPE html><html><head><title>Новости</title><style>p {color: red}</style></head>"
     "<body><h1>Хама</h1><p>Город   &laquo;Хама&raquo;\n освобожден.</p>"
     "<p>Силы режима<br>отступают &amp; бегут.</p><script>alert(1)</script></body></html>",
     "Новости\n\nХама\n\nГород «Хама» освобожден.\n\nСилы режима\n\nотступают & бегут."),
    ("<p>Первый абзац.</p>\n<p>Второй абзац.</p>", "Первый абзац.\n\nВторой абзац."),
]


@pytest.mark.parametrize(("raw", "clean"), CLEANED)
def test_text_is_cleaned(raw: str, clean: str) -> None:
    raw = unicodedata.normalize("NFD", raw) if "Йод" in raw else raw
    # a whole page read as all its text (`--html all`); its main text: tests/corpus/test_web
    assert decode(raw.encode("utf-8"), "a.txt", html="all") == clean


def test_html_file_by_name_and_metadata() -> None:
    document = read_document("news.html", "Город <b>Хама</b> освобожден.".encode("cp1251"))
    assert document.text == "Город Хама освобожден."
    assert document.metadata == {"encoding": "cp1251", "html": True}


def test_encoding_is_judged_on_the_russian_after_a_long_ascii_start() -> None:
    # Only a sample is judged; it must start at the Russian, not in an English preamble.
    text = "<!-- " + "x" * 70_000 + " -->\n" + CAPS
    assert decode(text.encode("koi8-r"), "a.txt").endswith(CAPS)


def test_utf8_cut_off_inside_its_last_character_loses_only_that_character() -> None:
    data = "Город Хама".encode()
    assert decode(data[:-1], "a.txt") == "Город Хам"


def test_title_is_the_first_line() -> None:
    document = read_document("a.md", "\n# Хама освобождена\n\nТекст.".encode())
    assert document.title == "Хама освобождена"


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a folder, not a file"):
        read_document(tmp_path)
    with pytest.raises(InputError, match="cannot read"):
        read_document(tmp_path / "missing.txt")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.txt"
        locked.write_text("Текст.", encoding="utf-8")
        locked.chmod(0)
        with pytest.raises(InputError, match=r"locked\.txt: cannot read"):
            read_document(locked)


def test_find_sources_recurses_by_pattern_in_a_stable_order(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.txt", "sub/deeper/d.md", "skip.xml", "sub/e.csv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("Текст.", encoding="utf-8")
    found = [Path(p).relative_to(tmp_path).as_posix() for p in find_sources([str(tmp_path)])]
    assert found == ["a.md", "b.txt", "sub/c.txt", "sub/deeper/d.md"]
    assert [Path(p).name for p in find_sources([str(tmp_path)], ["*.xml"])] == ["skip.xml"]
    single = str(tmp_path / "skip.xml")
    assert list(find_sources([STDIN, single])) == [STDIN, single]


def test_find_sources_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        list(find_sources([str(tmp_path / "nope.txt")]))
    with pytest.raises(InputError,
                       match=r"no \*\.txt, \*\.md, .* or \*\.atom files in this folder"):
        list(find_sources([str(tmp_path)]))
