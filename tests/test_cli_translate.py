"""The translate command end to end, on the tiny model, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

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
