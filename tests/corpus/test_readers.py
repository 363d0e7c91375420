"""One reader per format, as the field writes files: TSV with and without a header (as
spreadsheets and other tools save it), TMX 1.1 and 1.4 from OmegaT and Trados, UTF-16 with
BOM, inline codes; and `import`, `eval` and `qa` reading a file the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.errors import FormatError
from corpus.readers import read_rows, read_tsv, tsv_header
from translate.cli import app


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


# ---------------------------------------------------------------- TSV header or not


@pytest.mark.parametrize(("first", "header"), [
    ("ru\ten", {"ru": 0, "en": 1}),
    ("RU\tEN", {"ru": 0, "en": 1}),
    ("en\tru", {"en": 0, "ru": 1}),  # the columns in the other order
    ("Source\tTarget", {"ru": 0, "en": 1}),
    ("ru-RU\ten-GB\tNote", {"ru": 0, "en": 1}),  # language tags, a note column
    ("id\tRussian\tEnglish", {"ru": 1, "en": 2}),
    ("Хомс взят.\tHoms is taken.", None),  # a pair is never made of column names
    ("ru\tRussia", None),  # one cell that names no column: data
    ("Источник\tSource", None),
])
def test_a_header_row_is_told_from_a_pair(first: str, header: dict[str, int] | None) -> None:
    assert tsv_header(first.split("\t")) == header


def test_tsv_with_a_header_reads_the_named_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "desk.tsv", "note\ten\tru\r\n"
                  "verified\tHoms is taken.\tХомс взят.\r\n\r\n"
                  "\tFighting near Hama.\tБои у Хамы.\r\n")
    assert [(r.line, r.ru, r.en) for r in read_tsv(path)] == [
        (2, "Хомс взят.", "Homs is taken."), (4, "Бои у Хамы.", "Fighting near Hama.")]


def test_tsv_saved_by_a_spreadsheet_as_unicode_text(tmp_path: Path) -> None:
    # Excel's "Unicode Text": UTF-16 LE with BOM, CRLF, a header row
    path = _write(tmp_path, "sheet.tsv", "\ufeffRU\tEN\r\nХомс взят.\tHoms is taken.\r\n"
                  .encode("utf-16-le"))
    assert [(r.ru, r.en) for r in read_rows(path)] == [("Хомс взят.", "Homs is taken.")]


@pytest.mark.parametrize(("content", "message"), [
    ("ru\ten\tnote\nХомс взят.\tHoms is taken.\n", r"x\.tsv:2: 2 columns, the header has 3"),
    ("source\tnote\nХомс взят.\tx\n", r"x\.tsv:1: the header names no English column"),
    ("Хомс взят.\n", r"x\.tsv:1: expected 2 tab-separated fields \(Russian, English\), found 1"),
])
def test_tsv_problems_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_tsv(_write(tmp_path, "x.tsv", content))


def test_the_header_row_is_not_imported(tmp_path: Path, db: Path, runner) -> None:
    path = _write(tmp_path, "memory.tsv", "ru\ten\nХомс взят.\tHoms is taken.\n")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    exported = runner.invoke(app, ["export", "--format", "tsv"])
    assert exported.stdout == "Хомс взят.\tHoms is taken.\n"


# ---------------------------------------------------------------- one reader, one message


@pytest.mark.parametrize("command", [["import", "{file}"], ["qa", "{file}"],
                                     ["eval", "{file}", "--ref", "{file}"]])
def test_one_column_tsv_is_the_same_error_everywhere(tmp_path: Path, db: Path, runner,
                                                     command: list[str]) -> None:
    path = _write(tmp_path, "pairs.tsv", "Homs is taken.\nFighting near Hama.\n")
    result = runner.invoke(app, [arg.format(file=path) for arg in command])
    assert result.exit_code == 2, result.output
    assert re.search(r"pairs\.tsv:1: expected 2 tab-separated fields \(Russian, English\), "
                     r"found 1", result.stderr)
    assert "Traceback" not in result.output


def test_qa_reads_a_tsv_with_a_header(tmp_path: Path, runner) -> None:
    path = _write(tmp_path, "pairs.tsv", "ru\ten\nХомс взят 10 мая.\tHoms was taken on May 11.\n")
    result = runner.invoke(app, ["qa", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert '"checked": 1' in result.stdout and "numbers" in result.stdout


# ---------------------------------------------------------------- TMX as tools write it

TMX11 = """<?xml version="1.0" ?>
<!DOCTYPE tmx SYSTEM "tmx11.dtd">
<tmx version="1.1">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext"
   creationtoolversion="4.3.2" segtype="sentence" srclang="RU"/>
  <body>
    <tu>
      <tuv lang="RU"><seg>Хомс взят.</seg></tuv>
      <tuv lang="EN-US"><seg>Homs has been taken.</seg></tuv>
    </tu>
  </body>
</tmx>
"""
TRADOS = """<?xml version="1.0" encoding="utf-16"?>
<tmx version="1.4">
  <header creationtool="SDL Language Platform" creationtoolversion="8.1" o-tmf="SDL TM8 Format"
   datatype="xml" segtype="sentence" adminlang="en-US" srclang="ru-RU"
   creationdate="20261101T120000Z" creationid="DESK\\anna">
    <prop type="x-Recognizers">RecognizeAll</prop>
    <prop type="x-TMName">syria-ru-en</prop>
  </header>
  <body>
    <tu creationdate="20261101T120500Z" creationid="DESK\\anna" changedate="20261102T090000Z"
     changeid="DESK\\anna" lastusagedate="20261103T080000Z" usagecount="3">
      <prop type="x-LastUsedBy">DESK\\anna</prop>
      <prop type="x-Context">0, 0</prop>
      <tuv xml:lang="ru-RU">
        <seg>Город <bpt i="1" type="bold" x="1">&lt;b&gt;</bpt>Хама<ept i="1">&lt;/b&gt;</ept> взят<ph x="2" type="lb">&lt;br/&gt;</ph> утром.</seg>
      </tuv>
      <tuv xml:lang="en-US">
        <seg>The city of <bpt i="1" type="bold" x="1">&lt;b&gt;</bpt>Hama<ept i="1">&lt;/b&gt;</ept> was taken<ph x="2" type="lb">&lt;br/&gt;</ph> in the morning.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv xml:lang="ru-RU"><seg><it pos="begin" x="3">&lt;i&gt;</it>Жители<ut>{\\i0}</ut> бегут.</seg></tuv>
      <tuv xml:lang="en-US"><seg><it pos="begin" x="3">&lt;i&gt;</it>Residents <hi type="em">are fleeing</hi>.<bpt i="4"><sub>alt text</sub></bpt><ept i="4"/></seg></tuv>
    </tu>
  </body>
</tmx>
"""  # noqa: E501 (Trados writes a segment on one line)


def test_tmx_1_1_with_lang_attributes(tmp_path: Path) -> None:
    rows = read_rows(_write(tmp_path, "old.tmx", TMX11))
    assert [(r.ru, r.en) for r in rows] == [("Хомс взят.", "Homs has been taken.")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8"])
def test_trados_tmx_in_utf16_with_inline_codes(tmp_path: Path, encoding: str) -> None:
    content = TRADOS if encoding == "utf-16" else TRADOS.replace('encoding="utf-16"',
                                                                f'encoding="{encoding}"')
    data = content.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    rows = read_rows(_write(tmp_path, "trados.tmx", data))
    # native codes (bpt, ept, ph, it, ut and a sub inside them) are dropped, hi keeps its text
    assert [(r.ru, r.en) for r in rows] == [
        ("Город Хама взят утром.", "The city of Hama was taken in the morning."),
        ("Жители бегут.", "Residents are fleeing.")]
    assert [r.line for r in rows] == [10, 21]  # the <tu> lines, for messages


def test_a_broken_control_character_code_names_its_line(tmp_path: Path) -> None:
    # ruen writes a control character as <ph type="x-ruen-char">001F</ph>; a file edited by
    # hand may hold anything there.
    tmx = _write(tmp_path, "bad.tmx", """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="ru" datatype="plaintext" segtype="sentence"
 adminlang="en" creationtool="t" creationtoolversion="1" o-tmf="t"/><body>
<tu><tuv xml:lang="ru"><seg>Хама<ph type="x-ruen-char">zz</ph></seg></tuv>
<tuv xml:lang="en"><seg>Hama</seg></tuv></tu>
</body></tmx>
""")
    with pytest.raises(FormatError, match=r"bad\.tmx:4: <ph type=\"x-ruen-char\"> holds 'zz', "
                                          r"not a code point\."):
        read_rows(tmx)
