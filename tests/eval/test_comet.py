"""COMET is optional: a clear message without it, a score with it (a fake module here)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from eval import comet
from eval.errors import EvalError, MissingExtra


def test_absent_comet_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "comet", None)  # import comet -> ImportError
    assert not comet.available()
    with pytest.raises(MissingExtra, match=r"pip install 'ruen\[comet\]'"):
        comet.comet_score(["Бои."], ["Fighting."], ["Fighting."], model=tmp_path)


def test_cli_reports_missing_comet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   runner) -> None:
    from translate.cli import app

    monkeypatch.setitem(sys.modules, "comet", None)
    for name, text in (("h.txt", "Fighting.\n"), ("r.txt", "Fighting.\n"), ("s.txt", "Бои.\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["eval", str(tmp_path / "h.txt"), "--ref", str(tmp_path / "r.txt"),
                                 "--src", str(tmp_path / "s.txt"), "--comet", str(tmp_path)])
    assert result.exit_code == 2
    assert "COMET is not installed" in result.output


def test_missing_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "comet", types.ModuleType("comet"))
    with pytest.raises(EvalError, match="no COMET checkpoint"):
        comet.comet_score(["Бои."], ["Fighting."], ["Fighting."], model=tmp_path / "none")


def test_score_from_a_comet_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    checkpoint = tmp_path / "wmt22-comet-da" / "checkpoints" / "model.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"")
    seen = {}

    class Model:
        def predict(self, data, batch_size, gpus, progress_bar):
            seen["data"] = data
            return types.SimpleNamespace(system_score=0.8, scores=[0.7, 0.9])

    fake = types.ModuleType("comet")
    fake.__version__ = "2.2.0"
    fake.load_from_checkpoint = lambda path: seen.setdefault("path", path) and Model()
    monkeypatch.setitem(sys.modules, "comet", fake)
    score, sentences = comet.comet_score(["Бои.", "Мир."], ["Fighting.", "Peace."],
                                         ["Fighting.", "Peace."], model=checkpoint.parents[1])
    assert seen["path"] == str(checkpoint)
    assert seen["data"][0] == {"src": "Бои.", "mt": "Fighting.", "ref": "Fighting."}
    assert (score.name, score.value, sentences) == ("COMET", 0.8, [0.7, 0.9])
    assert score.signature == "model:wmt22-comet-da|nrefs:1|version:2.2.0"
