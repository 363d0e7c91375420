"""TMX, TSV, JSONL and Moses: valid files out, the same pairs back in, and malformed files
rejected with their name and line."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.errors import FormatError
from corpus.interchange import import_file, read_pairs_file, write_tmx
from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MT = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
NASTY = [  # what breaks naive writers: tabs, newlines, markup, quotes, control characters
    ("Он сказал: «Хомс\tвзят» & <ушёл>.", 'He said "Homs\ttaken" & <left>.'),
    ("Строка\nвторая\r\nтретья", "Line\nsecond\r\nthird"),
    ("Кавычки ' \" и \\ обратная черта", "Quotes ' \" and \\ backslash"),
    ("Управляющий \x01 символ и эмодзи 🚀", "Control \x01 character and emoji 🚀"),
    ("  Пробелы по краям  ", "  Spaces at the edges  "),
]


def _pairs(rows: list[tuple[str, str]], paragraphs: int = 1) -> list[SentencePair]:
    return [SentencePair(doc=1, index=i, paragraph=i % paragraphs, ru=ru, en=en)
            for i, (ru, en) in enumerate(rows)]


def _archive(path: Path, documents: list[tuple[str, list[tuple[str, str]]]]) -> Archive:
    archive = Archive(path)
    for title, rows in documents:
        text = " ".join(ru for ru, _ in rows)
        archive.save_document(Document(f"{title}.txt", title, text), _pairs(rows, 2), MT)
    return archive


# ---------------------------------------------------------------- TMX is valid TMX 1.4b


def test_tmx_header_languages_and_props(tmp_path: Path) -> None:
    out = io.StringIO()
    write_tmx([("Статья", p) for p in _pairs(NASTY)], out)
    assert out.getvalue().startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(out.getvalue().encode("utf-8"))
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None
    for attribute, value in [("creationtool", "ruen"), ("srclang", "ru"),
                             ("segtype", "sentence"), ("adminlang", "en"),
                             ("datatype", "plaintext"), ("o-tmf", "ruen")]:
        assert header.get(attribute) == value
    assert header.get("creationtoolversion")
    units = root.findall("body/tu")
    assert len(units) == len(NASTY)
    assert [[tuv.get(XML_LANG) for tuv in tu.findall("tuv")] for tu in units] == \
        [["ru", "en"]] * len(NASTY)
    props = {p.get("type"): p.text for p in units[2].findall("prop")}
    assert props["x-ruen-doc"] == "1" and props["x-ruen-index"] == "2"
    assert props["x-ruen-title"] == "Статья"
    assert units[0].find("tuv/seg").text == NASTY[0][0]


# ---------------------------------------------------------------- round trips


def _tmx_round_trip(tmp_path: Path, pairs: list[SentencePair]) -> list[SentencePair]:
    path = tmp_path / "x.tmx"
    with path.open("w", encoding="utf-8") as out:
        write_tmx([("t", p) for p in pairs], out)
    return [p for d in read_pairs_file(path) for p in d.pairs]


texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, texts), min_size=1, max_size=4))
def test_any_text_survives_tmx(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    back = _tmx_round_trip(tmp_path, _pairs(rows))
    assert [(p.index, p.ru, p.en) for p in back] == [(i, ru, en)
                                                     for i, (ru, en) in enumerate(rows)]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, texts), min_size=1, max_size=4))
def test_any_text_survives_tsv_and_jsonl(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    from corpus.formats import write_pairs

    for fmt in ("tsv", "jsonl"):
        path = tmp_path / f"x.{fmt}"
        with path.open("w", encoding="utf-8", newline="") as out:
            write_pairs(_pairs(rows), fmt, out)
        back = [(p.ru, p.en) for d in read_pairs_file(path) for p in d.pairs]
        assert back == rows, fmt


def test_archive_export_import_export_is_lossless(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db, [("Первая", NASTY), ("Вторая", NASTY[:2])]).close()
    tmx = tmp_path / "all.tmx"
    exported = runner.invoke(app, ["export", "--db", str(db), "--format", "tmx",
                                   "-o", str(tmx)])
    assert exported.exit_code == 0, exported.output
    imported = runner.invoke(app, ["import", str(tmx), "--db", str(tmp_path / "b.db"),
                                   "--kind", "post-edit", "--json"])
    assert imported.exit_code == 0, imported.output
    assert [r["added"] for r in json.loads(imported.stdout)] == [5, 2]

    def rows(archive: Path | str) -> list[tuple]:
        result = runner.invoke(app, ["export", "--db", str(archive), "--format", "jsonl"])
        return [(r["doc"], r["index"], r["paragraph"], r["ru"], r["en"])
                for r in map(json.loads, result.stdout.splitlines())]

    assert rows(tmp_path / "b.db") == rows(db)
    with Archive(tmp_path / "b.db") as b:
        assert [d.title for d in b.documents()] == ["Первая", "Вторая"]


def test_import_adds_references_to_the_matching_document_once(
        db: Path | str, tmp_path: Path) -> None:
    archive = _archive(db, [("Статья", NASTY[:3])])
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps({"doc": 7, "index": i, "ru": ru, "en": "Human " + en},
                                       ensure_ascii=False) + "\n"
                            for i, (ru, en) in enumerate(NASTY[:3])), encoding="utf-8")
    first = import_file(archive, path, kind="reference")
    again = import_file(archive, path, kind="reference")
    assert [(o.doc_id, o.new_document, o.added) for o in first] == [(1, False, 3)]
    assert [o.added for o in again] == [0]
    assert [p.en for p in archive.pairs(1)] == [en for _, en in NASTY[:3]]  # mt stays current
    kinds = [e.kind for e in archive.history(1)]
    assert kinds.count("reference") == 3
    from corpus.search import search

    assert {h.index for h in search(archive, "human", lang="en")} == {0, 1, 2}
    archive.close()


def test_tsv_import_makes_a_searchable_document(tmp_path: Path, db: Path, runner) -> None:
    path = tmp_path / "memory.tsv"
    path.write_text("Хомс взят.\tHoms is taken.\nБои у Хамы.\tFighting near Hama.\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    found = runner.invoke(app, ["search", "Хама", "--json"])
    assert [r["en"] for r in json.loads(found.stdout)] == ["Fighting near Hama."]


def test_moses_export_is_line_aligned(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db, [("Статья", NASTY)]).close()
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "moses",
                                 "-o", str(tmp_path / "corpus")])
    assert result.exit_code == 0, result.output
    ru = (tmp_path / "corpus.ru").read_text(encoding="utf-8").split("\n")
    en = (tmp_path / "corpus.en").read_text(encoding="utf-8").split("\n")
    assert len(ru) == len(en) == len(NASTY) + 1  # the last line ends with a newline
    assert ru[1] == "Строка вторая  третья" and en[1] == "Line second  third"


# ---------------------------------------------------------------- malformed files

TU = ('<tu><tuv xml:lang="ru"><seg>Да</seg></tuv><tuv xml:lang="en"><seg>Yes</seg></tuv>'
      '</tu>\n')


def _tmx(body: str, srclang: str = "ru") -> str:
    return (f'<?xml version="1.0"?>\n<tmx version="1.4">\n<header srclang="{srclang}" '
            f'creationtool="x" segtype="sentence"/>\n<body>\n{body}</body>\n</tmx>\n')


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.tmx", _tmx(TU + "<tu>\n"), r"bad\.tmx:7: not well-formed XML"),
    ("lang.tmx", _tmx(TU + TU.replace('"en"', '"de"')), r"lang\.tmx:6: .*'de'"),
    ("src.tmx", _tmx(TU, srclang="en-US"), r"src\.tmx:3: srclang"),
    ("missing.tmx", _tmx(TU + '<tu><tuv xml:lang="ru"><seg>Нет</seg></tuv></tu>\n'),
     r"missing\.tmx:6: .*no English"),
    ("dup.tmx", _tmx(TU.replace("<tu>", '<tu><prop type="x-ruen-index">0</prop>') * 2),
     r"dup\.tmx:6: duplicate unit.*line 5"),
    ("root.tmx", '<?xml version="1.0"?>\n<html/>\n', r"root\.tmx:2: .*not a TMX"),
    ("empty.tmx", _tmx(""), r"empty\.tmx: no sentence pairs"),
    ("seg.tmx", _tmx(TU.replace("Yes", " ")), r"seg\.tmx:5: the English text is empty"),
    ("fields.tsv", "Да\tYes\nНет\n", r"fields\.tsv:2: expected 2 tab-separated fields"),
    ("json.jsonl", '{"ru": "Да", "en": "Yes"}\n{"ru": "Нет",\n', r"json\.jsonl:2: not JSON"),
    ("key.jsonl", '{"ru": "Да"}\n', r"key\.jsonl:1: \"en\" is missing"),
    ("index.jsonl", '{"ru": "Да", "en": "Yes", "index": "one"}\n',
     r"index\.jsonl:1: .*not a whole number"),
    ("dup.jsonl", '{"ru": "Да", "en": "Yes", "doc": 1, "index": 0}\n'
                  '{"ru": "Нет", "en": "No", "doc": 1, "index": 0}\n',
     r"dup\.jsonl:2: duplicate unit"),
])
def test_malformed_files_name_file_and_line(db: Path | str, tmp_path: Path, name: str, content: str,
                                            message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with Archive(db) as archive:
        with pytest.raises(FormatError, match=message):
            import_file(archive, path)
        assert archive.documents() == []  # nothing stored


def test_import_command_reports_a_malformed_file_in_one_line(tmp_path: Path, db: Path,
                                                             runner) -> None:
    path = tmp_path / "bad.tmx"
    path.write_text(_tmx("<tu>"), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2
    assert "bad.tmx:" in result.stderr and "Traceback" not in result.output


def test_foreign_tmx_with_inline_codes_and_region_languages(tmp_path: Path) -> None:
    path = tmp_path / "cat.tmx"
    path.write_text(_tmx(
        '<tu><tuv xml:lang="ru-RU"><seg>Город <bpt i="1">&lt;b&gt;</bpt>Хама<ept i="1">'
        '&lt;/b&gt;</ept> взят</seg></tuv><tuv lang="EN-GB"><seg>The city of <hi>Hama</hi>'
        " is taken</seg></tuv></tu>\n", srclang="ru-RU"), encoding="utf-8")
    [document] = read_pairs_file(path)
    assert [(p.ru, p.en) for p in document.pairs] == [("Город Хама взят",
                                                       "The city of Hama is taken")]
    assert document.title == "cat"


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, texts), min_size=1, max_size=3))
def test_any_text_survives_the_archive_and_tmx(tmp_path_factory: pytest.TempPathFactory,
                                               rows: list[tuple[str, str]]) -> None:
    folder = tmp_path_factory.mktemp("round")
    with Archive(folder / "a.db") as archive:
        archive.import_document("t", "t.tmx", _pairs(rows), "post-edit")
        out = io.StringIO()
        write_tmx([("t", p) for p in archive.pairs(1)], out)
    (folder / "x.tmx").write_text(out.getvalue(), encoding="utf-8")
    back = [p for d in read_pairs_file(folder / "x.tmx") for p in d.pairs]
    assert [(p.ru, p.en) for p in back] == rows
