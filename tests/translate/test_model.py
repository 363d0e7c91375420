"""Model loading: a local directory, the Hugging Face cache offline, and the one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from translate.cli import app
from translate.errors import ModelUnavailable
from translate.model import resolve_model

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache (the hub library reads HF_HUB_CACHE once, at import)."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def _fake_hub_cache(cache: Path, name: str, model_dir: Path) -> Path:
    """Lay out `model_dir` as the hub library caches a download of `name` at COMMIT."""
    repo = cache / ("models--" + name.replace("/", "--"))
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(model_dir, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return snapshot


def test_local_directory_is_used_as_is_with_a_stable_fingerprint(tiny_model: Path) -> None:
    first, second = resolve_model(str(tiny_model)), resolve_model(str(tiny_model))
    assert first.path == tiny_model.resolve()
    assert first.revision == second.revision and first.revision.startswith("local-")


def test_cached_hub_model_loads_offline_with_its_commit_as_revision(
        tiny_model: Path, hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = _fake_hub_cache(hub_cache, "Helsinki-NLP/opus-mt-ru-en", tiny_model)
    ref = resolve_model("Helsinki-NLP/opus-mt-ru-en")
    assert ref.path == snapshot
    assert ref.revision == COMMIT
    assert ref.name == "Helsinki-NLP/opus-mt-ru-en"


@pytest.mark.parametrize("offline", ["1", ""])
def test_model_neither_cached_nor_reachable_raises_one_sentence(
        monkeypatch: pytest.MonkeyPatch, offline: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    with pytest.raises(ModelUnavailable) as caught:
        resolve_model("Helsinki-NLP/opus-mt-ru-en")
    message = str(caught.value)
    assert "ruen model download Helsinki-NLP/opus-mt-ru-en" in message
    assert "--model DIR" in message and "\n" not in message


def test_directory_without_config_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"no config\.json"):
        resolve_model(str(tmp_path))


def test_model_info_reads_the_shape_without_loading_weights(tiny_model: Path, runner) -> None:
    result = runner.invoke(app, ["model", "info", "--model", str(tiny_model), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["model_type"] == "marian"
    assert info["d_model"] == 32 and info["num_beams"] == 2
    assert "model.safetensors" in info["files"]
