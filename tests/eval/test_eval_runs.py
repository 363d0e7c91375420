"""Eval polish: worst lists without perfect sentences, `(baseline)` only for --baseline, the
default glossary in term accuracy, and the stored runs (`ruen eval runs`, `ruen eval show`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from translate.cli import app

SRC = ["ХТШ вошла в Хаму в среду.", "Силы режима отступили на 10 километров.",
       "Коалиция взяла под контроль три деревни."]
REF = ["HTS entered Hama on Wednesday.", "Regime forces retreated 10 kilometres.",
       "The coalition took control of three villages."]
HYP = ["HTS entered Hama on Wednesday.", "The regime forces retreated 12 miles.",
       "Coalition took three villages."]
OLD = ["KhTSh came into Hama.", "Forces of regime went back.", "Coalition took villages."]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, lines in {"src": SRC, "ref": REF, "hyp": HYP, "old": OLD}.items():
        path = tmp_path / f"{name}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths[name] = str(path)
    return paths


def test_worst_list_leaves_out_perfect_sentences(files, runner) -> None:
    result = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--worst", "5",
                                 "--json"])
    assert result.exit_code == 0, result.output
    worst = json.loads(result.stdout)["worst"]
    assert [w["index"] for w in worst] == [2, 1]  # sentence 0 is the reference itself
    text = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--worst", "5"])
    assert "The 2 worst sentences" in text.stdout and "line 1:" not in text.stdout


def test_baseline_label_only_for_the_baseline(files, runner) -> None:
    wide = {"COLUMNS": "200"}
    systems = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--system",
                                  f"old={files['old']}", "--samples", "50"], env=wide)
    assert systems.exit_code == 0, systems.output
    assert "(baseline)" not in systems.stdout
    assert "hyp.txt (hypothesis)" in systems.stdout and "vs hyp.txt (hypothesis)" in systems.stdout
    baseline = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--baseline",
                                   files["old"], "--samples", "50"], env=wide)
    assert "old.txt (baseline)" in baseline.stdout and "hyp.txt (hypothesis)" in baseline.stdout


def test_term_accuracy_uses_the_default_glossary_with_a_source(files, runner) -> None:
    result = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--src",
                                 files["src"], "--json"])
    terms = json.loads(result.stdout)["terms"]
    assert terms["occurrences"] >= 2 and terms["accuracy"] == 100.0  # HTS, Hama
    none = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--src",
                               files["src"], "--no-glossary", "--json"])
    assert json.loads(none.stdout)["terms"] is None
    no_source = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--json"])
    assert no_source.exit_code == 0 and json.loads(no_source.stdout)["terms"] is None


def test_runs_are_listed_and_shown(files, db: Path, runner) -> None:
    for hypothesis in (files["hyp"], files["old"]):
        stored = runner.invoke(app, ["eval", hypothesis, "--ref", files["ref"]])
        assert stored.exit_code == 0, stored.output
        assert "Stored as eval run" in stored.stderr
    runs = json.loads(runner.invoke(app, ["eval", "runs", "--json"]).stdout)
    assert [r["id"] for r in runs] == [1, 2]
    assert [r["hypothesis"] for r in runs] == [files["hyp"], files["old"]]
    assert runs[0]["scores"]["BLEU"] > runs[1]["scores"]["BLEU"]
    assert runs[0]["signature"].startswith("BLEU:nrefs:1|case:mixed") and runs[0]["created"]
    table = runner.invoke(app, ["eval", "runs"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "chrF2++" in table.stdout and "hyp.txt" in table.stdout

    shown = json.loads(runner.invoke(app, ["eval", "show", "2", "--json"]).stdout)
    assert shown["id"] == 2 and shown["run"]["name"] == "old.txt"
    assert shown["scores"] == runs[1]["scores"]
    text = runner.invoke(app, ["eval", "show", "1"], env={"COLUMNS": "200"})
    assert "eval run 1" in text.stdout and "BLEU = " in text.stdout
    missing = runner.invoke(app, ["eval", "show", "9"])
    assert missing.exit_code == 2 and "no eval run 9" in missing.stderr


def test_runs_of_an_archive_that_is_not_there(tmp_path: Path, runner) -> None:
    result = runner.invoke(app, ["eval", "runs", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2 and "no archive here" in result.stderr
