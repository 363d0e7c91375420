"""XLIFF 1.2 out to a CAT tool and back: the file is edited here as a translator's tool edits
it (targets changed, states set, notes added, inline tags kept), and only what changed comes
back, as post-edits."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from corpus.errors import FormatError
from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from corpus.xliff import import_xliff, read_xliff
from translate.cli import app

NS = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
MT = System("opus-mt-ru-en", "abc", "ctranslate2", {"beam": 4})
ROWS = [("Город Хама освобожден.", "Hama city is liberated."),
        ("Силы режима отступают к Хомсу.", "Forces of regime retreat to Homs."),
        ("Управляющий \x01 символ & <теги>.", "Control \x01 character & <tags>."),
        ("Жители возвращаются.", "Residents return.")]


def _archive(path: Path) -> None:
    with Archive(path) as archive:
        text = " ".join(ru for ru, _ in ROWS)
        archive.save_document(Document("hama.txt", "Хама освобождена", text),
                              [SentencePair(None, i, 0, ru, en) for i, (ru, en) in
                               enumerate(ROWS)], MT)
        archive.post_edit(1, 3, "Residents are returning home.")


def _export(runner, db: Path, out: Path) -> str:
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "xliff", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_export_is_xliff_1_2_with_mt_to_review(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db)
    text = _export(runner, db, tmp_path / "out.xlf")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("version") == "1.2"
    [file] = root.findall("x:file", NS)
    assert (file.get("source-language"), file.get("target-language")) == ("ru", "en")
    units = file.findall("x:body/x:trans-unit", NS)
    assert [u.get("id") for u in units] == ["1:0", "1:1", "1:2", "1:3"]
    assert [u.find("x:target", NS).get("state") for u in units] == [
        "needs-review-translation"] * 3 + ["translated"]
    assert units[3].find("x:target", NS).text == "Residents are returning home."
    ph = units[2].find("x:source/x:ph", NS)  # a character XML cannot hold, kept as a code
    assert ph.get("ctype") == "x-ruen-char" and ph.text == "0001"


def _cat_tool_edit(text: str) -> str:
    """What a translator does in a CAT tool: fix two targets (one keeps an inline tag the
    tool added around a name), confirm one unchanged, add notes, and the tool rewrites the
    file with its own header, alt-trans matches and ids on the inline tags."""
    text = text.replace("<header>", '<header><tool tool-id="omegat" tool-name="OmegaT"/>')
    text = text.replace(
        '<target xml:lang="en" state="needs-review-translation">Hama city is liberated.'
        "</target>",
        '<target xml:lang="en" state="translated">The city of <g id="1" ctype="bold">Hama'
        "</g> has been liberated.</target>\n"
        '        <note from="anna">checked against the wire</note>\n'
        '        <alt-trans match-quality="72%"><source xml:lang="ru">Город Хомс</source>'
        '<target xml:lang="en">The city of Homs</target></alt-trans>')
    text = text.replace(
        '<target xml:lang="en" state="needs-review-translation">Forces of regime retreat to '
        "Homs.</target>",
        '<target xml:lang="en" state="signed-off">Regime forces are retreating<x id="2"/> '
        'towards Homs<ph id="3">&lt;br/&gt;</ph>.</target>')
    # unit 1:2 confirmed as it was: only its state changes
    return text.replace('state="needs-review-translation">Control',
                        'state="final">Control')


def test_edited_file_comes_back_as_post_edits(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db)
    xlf = tmp_path / "hama.xlf"
    xlf.write_text(_cat_tool_edit(_export(runner, db, xlf)), encoding="utf-8")
    result = runner.invoke(app, ["import", str(xlf), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert [(r["doc"], r["added"], r["unchanged"]) for r in json.loads(result.stdout)] == [
        (1, 2, 2)]
    with Archive(db) as archive:
        current = [(p.en, p.kind) for p in archive.pairs(1)]
        assert current == [
            ("The city of Hama has been liberated.", "post-edit"),
            ("Regime forces are retreating towards Homs.", "post-edit"),
            ("Control \x01 character & <tags>.", "mt"),  # unchanged: still the machine's
            ("Residents are returning home.", "post-edit")]
        assert len(archive.history(1)) == 7  # 4 MT + 1 earlier post-edit + 2 new
    again = runner.invoke(app, ["import", str(xlf), "--db", str(db), "--json"])
    assert [r["added"] for r in json.loads(again.stdout)] == [0]  # the same file adds nothing


def test_a_file_from_another_archive_stores_nothing(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db)
    text = _export(runner, db, tmp_path / "out.xlf")
    changed = text.replace("Hama city is liberated.", "The city of Hama is free.")
    wrong_source = tmp_path / "other.xlf"
    wrong_source.write_text(changed.replace("Жители возвращаются.", "Жители уезжают."),
                            encoding="utf-8")
    with Archive(db) as archive:
        with pytest.raises(FormatError, match=r"other\.xlf:\d+: the source of 1:3 is not"):
            import_xliff(archive, wrong_source)
        assert all(p.kind != "post-edit" for p in archive.pairs(1) if p.index != 3)
    missing = tmp_path / "missing.xlf"
    missing.write_text(changed.replace('id="1:2"', 'id="1:9"'), encoding="utf-8")
    result = runner.invoke(app, ["import", str(missing), "--db", str(db)])
    assert result.exit_code == 2
    assert re.search(r"missing\.xlf:\d+: document 1 has no sentence 9", result.stderr)
    with Archive(db) as archive:
        assert next(p.en for p in archive.pairs(1)) == "Hama city is liberated."


@pytest.mark.parametrize(("content", "message"), [
    ('<?xml version="1.0"?>\n<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0">'
     "\n</xliff>\n", r":2: XLIFF version 2\.0"),
    ('<?xml version="1.0"?>\n<tmx version="1.4"/>\n', r":2: the root element is <tmx>"),
    ('<xliff version="1.2"><file source-language="ru" target-language="en"><body>\n'
     '<trans-unit id="intro"><source>Да</source></trans-unit></body></file></xliff>',
     r":2: trans-unit id 'intro' is not ruen's DOC:INDEX"),
    ('<xliff version="1.2"><file source-language="en" target-language="de"><body>'
     "</body></file></xliff>", r":1: source-language is 'en'"),
    ('<xliff version="1.2"><file><body><trans-unit id="1:0"><source>Да</source>\n'
     "</body></file></xliff>", r":2: not well-formed XML"),
    ('<xliff version="1.2"><file><body></body></file></xliff>', r": no <trans-unit>"),
])
def test_malformed_xliff_names_file_and_line(tmp_path: Path, content: str,
                                             message: str) -> None:
    path = tmp_path / "bad.xlf"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad\.xlf" + message):
        read_xliff(path)


def test_xliff_needs_current_kind(db: Path | str, tmp_path: Path, runner) -> None:
    _archive(db)
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "xliff",
                                 "--kind", "all"])
    assert result.exit_code == 2 and "one target per sentence" in result.output
