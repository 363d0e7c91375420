"""`ruen eval` through the real CLI: files, archive documents, JSON, report and stored runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

SRC = ["ХТШ вошла в Хаму в среду.", "Силы режима отступили на 10 километров.",
       "Коалиция взяла под контроль три деревни."]
REF = ["HTS entered Hama on Wednesday.", "Regime forces retreated 10 kilometres.",
       "The coalition took control of three villages."]
HYP = ["HTS entered Hama on Wednesday.", "The regime forces retreated 12 miles.",
       "Coalition took three villages."]
BASE = ["KhTSh came into Hama.", "Forces of regime went back.", "Coalition took villages."]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, lines in {"src": SRC, "ref": REF, "hyp": HYP, "base": BASE}.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def run(runner, *args: str):
    result = runner.invoke(app, ["eval", *map(str, args)])
    return result


def test_prints_scores_with_signatures_and_worst(runner, files) -> None:
    result = run(runner, files["hyp"], "--ref", files["ref"], "--src", files["src"],
                 "--worst", "1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "BLEU = " in out and "chrF2++ = " in out and "TER = " in out
    assert "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in out
    assert "The 1 worst sentence by chrF++" in out
    assert "hyp: Coalition took three villages." in out  # the worst of the three
    assert "src: Коалиция" in out


def test_json_with_glossary_and_baseline(runner, files) -> None:
    result = run(runner, files["hyp"], "--ref", files["ref"], "--src", files["src"],
                 "--baseline", files["base"], "--samples", "100",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["scores"]] == ["BLEU", "chrF2++", "TER"]
    assert [s["index"] for s in data["sentence_scores"]] == [0, 1, 2]
    assert data["sentence_scores"][0]["chrf"] == 100.0  # the first sentence is the reference
    assert data["terms"]["occurrences"] >= 1 and data["terms"]["accuracy"] == 100.0
    comparison = data["comparison"]
    assert comparison["baseline"] == "base.txt"  # named after its file
    ours = [s for s in comparison["scores"] if s["system"] == "hyp.txt" and s["metric"] == "BLEU"]
    assert ours[0]["p_value"] is not None and ours[0]["ci"] is not None
    # reference-free QA of the hypothesis: 10 km became 12 miles
    assert {f["check"] for q in data["qa"] for f in q["flags"]} >= {"numbers", "units"}


def test_several_systems_and_a_report(runner, files, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = run(runner, files["hyp"], "--ref", files["ref"], "--system",
                 f"old={files['base']}", "--samples", "50", "--report", report)
    assert result.exit_code == 0, result.output
    assert "old" in result.stdout and "p = " in result.stdout
    assert "data:image/png;base64," in report.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--ref", "{ref}"], "give a hypothesis file"),
    (["{hyp}"], "give a reference with --ref FILE"),
    (["{hyp}", "--ref", "{short}"], "has 1 sentences but the hypothesis has 3"),
    (["{hyp}", "--ref", "{ref}", "--glossary", "{glossary}"], "needs the Russian source"),
    (["{hyp}", "--ref", "{missing}"], "no such file"),
])
def test_user_errors_exit_2(runner, files, tmp_path: Path, args: list[str],
                            message: str) -> None:
    short = tmp_path / "short.txt"
    short.write_text("One line.\n", encoding="utf-8")
    glossary = tmp_path / "mine.tsv"
    glossary.write_text("ru\ten\nХама\tHama\n", encoding="utf-8")
    names = {k: str(v) for k, v in files.items()} | {"short": str(short),
                                                       "glossary": str(glossary),
                                                       "missing": str(tmp_path / "nope.txt")}
    result = run(runner, *[a.format(**names) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def _archive_document(path: Path, english: list[str]) -> int:
    pairs = [SentencePair(None, i, 0, ru, en, start=0, end=len(ru))
             for i, (ru, en) in enumerate(zip(SRC, english, strict=True))]
    with Archive(path) as archive:
        return archive.save_document(Document("a.txt", "a", " ".join(SRC)), pairs,
                                     System("test-model"))


def test_archive_document_with_stored_references_and_run(runner, db: Path) -> None:
    doc = _archive_document(db, HYP)
    missing = run(runner, "--db", db, "--doc", doc)
    assert missing.exit_code == 2 and "no reference for sentence(s) 0, 1, 2" in missing.output

    with Archive(db) as archive:
        references = [SentencePair(None, i, 0, ru, en)
                      for i, (ru, en) in enumerate(zip(SRC, REF, strict=True))]
        archive.import_document("ref", "ref.tsv", references, "reference")
    result = run(runner, "--db", db, "--doc", doc, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == f"doc {doc}" and data["sentences"] == 3
    with Archive(db) as archive:
        [stored] = archive.eval_runs()
    assert stored.signature.startswith("BLEU:nrefs:1|case:mixed")
    assert stored.scores["scores"][0]["score"] == data["scores"][0]["score"]
    assert stored.scores["references"] == ["archive"]


def test_archive_document_with_reference_file(runner, db: Path, files) -> None:
    doc = _archive_document(db, REF)
    result = run(runner, "--db", db, "--doc", doc, "--ref", files["ref"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scores"][0]["score"] == pytest.approx(100.0)


def test_help_has_an_example(runner) -> None:
    assert "Example" in runner.invoke(app, ["eval", "--help"]).stdout
    assert "Example" in runner.invoke(app, ["qa", "--help"]).stdout


# ---------------------------------------------------------------- polish and stored runs


def test_worst_list_leaves_out_perfect_sentences(runner, files) -> None:
    result = run(runner, files["hyp"], "--ref", files["ref"], "--worst", "5", "--json")
    assert result.exit_code == 0, result.output
    worst = json.loads(result.stdout)["worst"]
    assert [w["index"] for w in worst] == [2, 1]  # sentence 0 is the reference itself
    text = run(runner, files["hyp"], "--ref", files["ref"], "--worst", "5")
    assert "The 2 worst sentences" in text.stdout and "line 1:" not in text.stdout


def test_baseline_label_only_for_the_baseline(runner, files) -> None:
    wide = {"COLUMNS": "200"}
    systems = runner.invoke(app, ["eval", str(files["hyp"]), "--ref", str(files["ref"]),
                                  "--system", f"old={files['base']}", "--samples", "50"],
                            env=wide)
    assert systems.exit_code == 0, systems.output
    assert "(baseline)" not in systems.stdout
    assert "vs hyp.txt (hypothesis)" in systems.stdout
    baseline = runner.invoke(app, ["eval", str(files["hyp"]), "--ref", str(files["ref"]),
                                   "--baseline", str(files["base"]), "--samples", "50"],
                             env=wide)
    assert "base.txt (baseline)" in baseline.stdout
    assert "hyp.txt (hypothesis)" in baseline.stdout


def test_term_accuracy_uses_the_default_glossary_with_a_source(runner, files) -> None:
    result = run(runner, files["hyp"], "--ref", files["ref"], "--src", files["src"], "--json")
    terms = json.loads(result.stdout)["terms"]
    assert terms["occurrences"] >= 2 and terms["accuracy"] == 100.0  # HTS, Hama
    none = run(runner, files["hyp"], "--ref", files["ref"], "--src", files["src"],
               "--no-glossary", "--json")
    assert json.loads(none.stdout)["terms"] is None
    no_source = run(runner, files["hyp"], "--ref", files["ref"], "--json")
    assert no_source.exit_code == 0 and json.loads(no_source.stdout)["terms"] is None


def test_runs_are_listed_and_shown(runner, files, db: Path) -> None:
    for hypothesis in (files["hyp"], files["base"]):
        stored = run(runner, hypothesis, "--ref", files["ref"])
        assert stored.exit_code == 0, stored.output
        assert "Stored as eval run" in stored.stderr  # RUEN_DB names the archive
    runs = json.loads(run(runner, "runs", "--json").stdout)
    assert [r["id"] for r in runs] == [1, 2]
    assert [r["hypothesis"] for r in runs] == [str(files["hyp"]), str(files["base"])]
    assert runs[0]["scores"]["BLEU"] > runs[1]["scores"]["BLEU"]
    assert runs[0]["signature"].startswith("BLEU:nrefs:1|case:mixed") and runs[0]["created"]
    table = runner.invoke(app, ["eval", "runs"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "chrF2++" in table.stdout and "hyp.txt" in table.stdout

    shown = json.loads(run(runner, "show", "2", "--json").stdout)
    assert shown["id"] == 2 and shown["run"]["name"] == "base.txt"
    assert shown["scores"] == runs[1]["scores"]
    text = runner.invoke(app, ["eval", "show", "1"], env={"COLUMNS": "200"})
    assert "eval run 1" in text.stdout and "BLEU = " in text.stdout
    missing = run(runner, "show", "9")
    assert missing.exit_code == 2 and "no eval run 9" in missing.stderr


def test_runs_of_an_archive_that_is_not_there(runner, tmp_path: Path) -> None:
    result = run(runner, "runs", "--db", tmp_path / "none.db")
    assert result.exit_code == 2 and "no archive here" in result.stderr
