"""The translate command end to end, on the tiny model, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from corpus.testing import archive_exists
from translate.cli import app

TEXT = "Город Хама освобожден. Силы режима отступают.\n\nМы продолжаем двигаться на юг.\n"


def _jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_jsonl_is_one_object_per_sentence_in_order_and_matches_export(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "article.txt"
    source.write_text(TEXT, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = _jsonl(result.stdout)
    assert [(r["index"], r["paragraph"]) for r in rows] == [(0, 0), (1, 0), (2, 1)]
    assert [r["ru"] for r in rows] == ["Город Хама освобожден.", "Силы режима отступают.",
                                       "Мы продолжаем двигаться на юг."]
    assert all(r["doc"] == 1 and r["en"] for r in rows)

    exported = runner.invoke(app, ["export", "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    assert [(r["ru"], r["en"]) for r in _jsonl(exported.stdout)] == [
        (r["ru"], r["en"]) for r in rows]


def test_missing_model_offline_is_one_sentence_exit_2(db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "a.txt"
    source.write_text(TEXT, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", "nobody/no-such-model"])
    assert result.exit_code == 2
    assert "ruen model download nobody/no-such-model" in result.stderr
    assert "Traceback" not in result.output


def test_text_output_keeps_paragraphs_and_rerun_adds_nothing(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "article.txt"
    source.write_text(TEXT, encoding="utf-8")
    args = ["translate", str(source), "--model", str(tiny_model)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    paragraphs = first.stdout.rstrip("\n").split("\n\n")
    assert len(paragraphs) == 2 and all(p.strip() for p in paragraphs)

    second = runner.invoke(app, [*args, "--format", "jsonl"])
    assert second.exit_code == 0, second.output
    rows = _jsonl(second.stdout)
    assert {r["origin"] for r in rows} == {"tm"}  # nothing re-translated
    assert " ".join(r["en"] for r in rows[:2]) == paragraphs[0]

    listed = runner.invoke(app, ["list", "--json"])
    assert [d["segments"] for d in json.loads(listed.stdout)] == [3]
    exported = runner.invoke(app, ["export", "--format", "jsonl"])
    assert len(_jsonl(exported.stdout)) == 3


def test_tsv_output_to_a_file_and_no_archive(tiny_model: Path, db: Path, tmp_path: Path,
                                             runner) -> None:
    source = tmp_path / "article.txt"
    source.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--format", "tsv", "-o", str(out), "--no-archive"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r[0] for r in rows] == ["Город Хама освобожден.", "Силы режима отступают.",
                                    "Мы продолжаем двигаться на юг."]
    assert all(len(r) == 2 and r[1] for r in rows)
    assert not archive_exists(db)


def test_show_prints_russian_and_english_side_by_side(tiny_model: Path, db: Path,
                                                      tmp_path: Path, runner) -> None:
    source = tmp_path / "article.txt"
    source.write_text(TEXT, encoding="utf-8")
    translated = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                     "--format", "jsonl"])
    english = _jsonl(translated.stdout)[2]["en"]
    shown = runner.invoke(app, ["show", "1", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)[2]["en"] == english
    missing = runner.invoke(app, ["show", "7"])
    assert missing.exit_code == 2 and "no document 7" in missing.stderr
