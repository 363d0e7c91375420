"""Glossary files: TSV, CSV and TBX in; every broken file is one error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.errors import FormatError
from translate.glossary import DEFAULT_GLOSSARY, load_glossary, read_entries

TBX = """<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX" xml:lang="en">
  <text><body>
    <termEntry id="c1">
      <descrip type="definition">city in western Syria</descrip>
      <langSet xml:lang="ru"><tig><term>Хама</term></tig></langSet>
      <langSet xml:lang="en"><tig><term>Hama</term></tig></langSet>
    </termEntry>
    <conceptEntry id="c2">
      <langSec xml:lang="ru"><termSec><term>КВО</term></termSec>
        <termSec><term>КМО</term></termSec></langSec>
      <langSec xml:lang="en-GB"><termSec><term>MOC</term></termSec></langSec>
    </conceptEntry>
  </body></text>
</martif>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tsv_with_optional_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tsv", "# a comment\nru\ten\tvariants\tcase_sensitive\tnote\n\n"
                  "Хама\tHama\tKhama | Hamah\tno\tcity\n")
    [entry] = read_entries(path)
    assert (entry.ru, entry.en, entry.variants, entry.case_sensitive, entry.note) == (
        "Хама", "Hama", ("Khama", "Hamah"), False, "city")
    assert entry.origin == f"{path}:4"


def test_csv_with_quoted_commas(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.csv", 'en,ru\n"Hama, the city",Хама\n')
    assert [(e.ru, e.en) for e in read_entries(path)] == [("Хама", "Hama, the city")]


def test_tbx_terms_become_entries(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tbx", TBX)
    entries = read_entries(path)
    assert [(e.ru, e.en) for e in entries] == [("Хама", "Hama"), ("КВО", "MOC"), ("КМО", "MOC")]
    assert entries[0].note == "city in western Syria"
    assert entries[0].origin == f"{path}:6"


@pytest.mark.parametrize(("name", "text", "line", "problem"), [
    ("g.tsv", "russian\tenglish\nХама\tHama\n", 1, "header"),          # no ru/en header
    ("g.tsv", "ru,en\nХама,Hama\n", 1, "tabs"),                         # CSV content as .tsv
    ("g.tsv", "ru\ten\nХама\tHama\nХомс\n", 3, "1 columns"),            # wrong column count
    ("g.tsv", "ru\ten\nХама\tHama\tcity\n", 2, "3 columns"),
    ("g.tsv", "ru\ten\nХама\t \n", 2, "empty en"),                      # empty target
    ("g.tsv", "ru\ten\n\tHama\n", 2, "empty ru"),
    ("g.tsv", "ru\ten\tcase_sensitive\nХама\tHama\tmaybe\n", 2, "case_sensitive"),
    ("g.tsv", "ru\ten\tcolour\nХама\tHama\tred\n", 1, "unknown column"),
    ("g.tsv", "", 0, "empty glossary"),
    ("g.tbx", "<martif><text><body><termEntry>\n<langSet xml:lang='ru'>", 2, "not valid"),
    ("g.tbx", "<martif>\n<termEntry>\n<langSet xml:lang='ru'><term>Хама</term></langSet>"
              "</termEntry></martif>", 1, "no English terms; the file has terms in ru"),
    ("g.tbx", "<html><body>hello</body></html>", 1, "no termEntry"),
])
def test_broken_files_name_file_line_and_problem(tmp_path: Path, name: str, text: str,
                                                 line: int, problem: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(FormatError) as caught:
        read_entries(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:" if line else f"{path}:")
    assert problem in message


def test_one_term_with_two_targets_in_one_file_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tsv", "ru\ten\nХама\tHama\nХомс\tHoms\nхама\tHamah\n")
    with pytest.raises(FormatError) as caught:
        load_glossary([path], use_default=False)
    assert f"{path}:4" in str(caught.value) and f"{path}:2" in str(caught.value)


def test_the_same_line_twice_is_not_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.tsv", "ru\ten\nХама\tHama\nХама\tHama\n")
    assert len(load_glossary([path], use_default=False)) == 1


def test_not_utf8_and_missing_files_are_format_errors(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_bytes("ru\ten\nХама\tHama\n".encode("cp1251"))
    with pytest.raises(FormatError, match="UTF-8"):
        read_entries(path)
    with pytest.raises(FormatError, match="cannot read"):
        read_entries(tmp_path / "missing.tsv")


def test_default_glossary_has_the_facts_and_a_stable_version(tmp_path: Path) -> None:
    glossary = load_glossary()
    targets = {e.ru: e.en for e in glossary.entries}
    assert targets["Командование военных операций"] == "Military Operations Command"
    assert targets["КВО"] == targets["КМО"] == "MOC"
    assert targets["Четвёртая дивизия"] == targets["Четвертое подразделение"] == "Fourth Division"
    assert targets["Дейр эз-Зор"] == "Deir ez-Zor"
    assert len(targets) == len(read_entries(DEFAULT_GLOSSARY)) >= 34
    assert load_glossary().version == glossary.version
    mine = _write(tmp_path, "mine.tsv", "ru\ten\nХама\tHamah\n")
    assert load_glossary([mine]).version != glossary.version


def test_tsv_admitted_renderings_and_glossary_add_keeps_them(tmp_path: Path, runner) -> None:
    from translate.cli import app

    path = _write(tmp_path, "g.tsv", "ru\ten\tadmitted\tvariants\nХама\tHama\tHamah\tKhama\n")
    [entry] = read_entries(path)
    assert (entry.admitted, entry.variants) == (("Hamah",), ("Khama",))
    result = runner.invoke(app, ["glossary", "add", "Хомс", "Homs", "--admitted", "Hims",
                                 "--to", str(path)])
    assert result.exit_code == 0, result.output
    assert {e.ru: e.admitted for e in read_entries(path)} == {"Хама": ("Hamah",),
                                                             "Хомс": ("Hims",)}
