"""The issue-14 cases of the CLI contract that a walk over the commands cannot see: user text
shown as it is (never read as rich markup), results on stdout and summaries on stderr, the exit
code of `qa --fail-on`, the glossary in quality checks, and titles cut after a whole word."""

from __future__ import annotations

import json
import re
from pathlib import Path

from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

MARKUP_RU = "Хама [bold]свободна[/bold]."
MARKUP_EN = "Хама [red]is free[/red]."  # Cyrillic left: flagged


def _store(db: Path, pairs: list[SentencePair], text: str = "text") -> None:
    with Archive(db) as archive:
        archive.save_document(Document("a.txt", "a", text), pairs, System("m"))


def test_file_names_with_brackets_are_shown_whole(tiny_model: Path, db: Path, tmp_path: Path,
                                                  runner) -> None:
    draft = tmp_path / "draft[v2].txt"
    draft.write_bytes(b"")
    result = runner.invoke(app, ["translate", str(draft), "--model", str(tiny_model)])
    assert result.exit_code == 2
    assert f"error: {draft}: empty file" in result.stderr  # was `draft.txt`


def test_a_query_with_markup_is_echoed_as_typed(db: Path, runner) -> None:
    _store(db, [SentencePair(None, 0, 0, "Хама свободна.", "Hama is free.", start=0, end=14)])
    result = runner.invoke(app, ["search", '"[red]Хама'])
    assert result.exit_code == 2
    assert "'\"[red]Хама'" in result.stderr


def test_sentences_with_brackets_are_printed_as_they_are(db: Path, runner) -> None:
    _store(db, [SentencePair(None, 0, 0, MARKUP_RU, MARKUP_EN, start=0, end=len(MARKUP_RU))])
    for args in (["show", "1"], ["show", "1", "--history"], ["qa", "--check", "cyrillic"],
                 ["search", "Хама"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "[bold]свободна[/bold]" in result.stdout or args[0] == "qa", args
    qa = runner.invoke(app, ["qa", "--check", "cyrillic", "--check", "brackets"],
                       env={"COLUMNS": "200"})
    assert MARKUP_EN in qa.stdout and MARKUP_RU in qa.stdout


def test_import_and_edit_report_on_stderr_and_results_on_stdout(db: Path, tmp_path: Path,
                                                                runner) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("Хама свободна.\tHama is free.\n", encoding="utf-8")
    plain = runner.invoke(app, ["import", str(pairs)])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout == "" and "1 reference translation(s)" in plain.stderr
    edit = runner.invoke(app, ["edit", "1", "0", "Hama is liberated.", "--json"])
    assert json.loads(edit.stdout) == {"doc": 1, "index": 0, "stored": True,
                                       "en": "Hama is liberated."}


# ---------------------------------------------------------------- qa


def _flagged_archive(db: Path) -> None:
    _store(db, [
        SentencePair(None, 0, 0, "Силы отошли на 10 км.", "Forces withdrew 10 km.",
                     start=0, end=21),
        SentencePair(None, 1, 0, "Город Хама взят.", "The city of Хама was taken.",  # error
                     start=22, end=38),
        SentencePair(None, 2, 0, "Он сказал «да».", "He said “yes.", start=39, end=54),  # warning
    ])


def test_qa_fail_on_makes_a_script_fail_on_problems(db: Path, runner) -> None:
    _flagged_archive(db)
    assert runner.invoke(app, ["qa"]).exit_code == 0  # a report, by default
    assert runner.invoke(app, ["qa", "--fail-on", "error"]).exit_code == 1
    only_warnings = runner.invoke(app, ["qa", "--fail-on", "error", "--check", "brackets"])
    assert only_warnings.exit_code == 0, only_warnings.output
    assert runner.invoke(app, ["qa", "--fail-on", "warning",
                               "--check", "brackets"]).exit_code == 1
    summary = runner.invoke(app, ["qa", "--json"])
    assert json.loads(summary.stdout)["flagged"] == 2
    assert "3 translation(s) checked, 2 flagged" in summary.stderr


def test_qa_uses_the_default_glossary_and_can_run_that_check_alone(db: Path, tmp_path: Path,
                                                                  runner) -> None:
    _store(db, [SentencePair(None, 0, 0, "ХТШ взяла Хаму.", "KhTSh took Hama.", start=0,
                             end=15)])
    found = runner.invoke(app, ["qa", "--check", "glossary-missing", "--json"])
    assert found.exit_code == 0, found.output
    [finding] = json.loads(found.stdout)["findings"]
    assert [f["check"] for f in finding["flags"]] == ["glossary-missing"]  # HTS, default
    assert "HTS" in finding["flags"][0]["message"]
    assert json.loads(runner.invoke(app, ["qa", "--check", "glossary-missing", "--no-glossary",
                                          "--json"]).stdout)["flagged"] == 0
    mine = tmp_path / "mine.tsv"
    mine.write_text("ru\ten\nХама\tHamah\n", encoding="utf-8")
    both = runner.invoke(app, ["qa", "--check", "glossary-missing", "-g", str(mine), "--json"])
    messages = [f["message"] for f in json.loads(both.stdout)["findings"][0]["flags"]]
    assert any("HTS" in m for m in messages) and any("Hamah" in m for m in messages)
    numbers_only = runner.invoke(app, ["qa", "--check", "numbers", "--json"])
    assert json.loads(numbers_only.stdout)["flagged"] == 0


# ---------------------------------------------------------------- titles

LONG_TITLE = ("Силы режима отступают под давлением повстанцев на севере провинции Хама, "
              "сообщили источники в оппозиции")


def test_titles_are_cut_after_a_whole_word(tiny_model: Path, db: Path, tmp_path: Path,
                                          runner) -> None:
    source = tmp_path / "long.txt"
    source.write_text(f"{LONG_TITLE}\n\nГород Хама освобожден.\n", encoding="utf-8")
    done = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model)])
    assert done.exit_code == 0, done.output
    [document] = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    title = document["title"]
    assert title == "Силы режима отступают под давлением повстанцев на севере провинции Хама…"
    hits = json.loads(runner.invoke(app, ["search", "Хама", "--json"]).stdout)
    assert {h["title"] for h in hits} == {title}
    tmx = runner.invoke(app, ["export", "--format", "tmx"]).stdout
    assert set(re.findall(r'<prop type="x-ruen-title">([^<]*)</prop>', tmx)) == {title}
    shown = runner.invoke(app, ["show", "1"], env={"COLUMNS": "200"}).stdout
    assert f"1: {title}" in shown
