"""Finding a Marian checkpoint: a local directory, the Hugging Face cache, or the hub.

Weights are never fetched behind the user's back when `HF_HUB_OFFLINE=1`; when the hub cannot be
reached and nothing is cached, `ModelUnavailable` says in one sentence what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from translate.errors import ModelUnavailable

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-ru-en"
# Only what a Marian translation model needs: no TF/Flax weights, no training logs.
MODEL_FILES = ["*.json", "*.spm", "*.model", "*.safetensors", "*.bin", "*.txt"]


@dataclass(frozen=True)
class ModelRef:
    """Where a model's files are, and what to call it in provenance records."""

    name: str  # hub id, or the local directory as given
    path: Path  # directory with config.json, weights, tokenizer files
    revision: str  # hub commit hash, or a fingerprint of a local directory's files


def default_model() -> str:
    return os.environ.get("RUEN_MODEL", DEFAULT_MODEL)


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _fingerprint(directory: Path) -> str:
    """A cheap identity for a local checkpoint: config plus the names and sizes of its files."""
    digest = hashlib.sha256()
    for file in sorted(directory.iterdir()):
        if file.is_file():
            digest.update(f"{file.name}:{file.stat().st_size}\n".encode())
    config = directory / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    return "local-" + digest.hexdigest()[:12]


def _unavailable(name: str, why: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"Model '{name}' is not available here ({why}): run `ruen model download {name}` on a "
        f"machine with internet access (then copy its Hugging Face cache here), or pass "
        f"--model DIR with a local copy of the model."
    )


def resolve_model(name: str | None = None, revision: str | None = None) -> ModelRef:
    """Find the model's files: a local directory, else the HF cache, else the hub (if allowed)."""
    name = name or default_model()
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelUnavailable(f"{local}: no config.json here; this is not a model directory.")
        return ModelRef(name=str(local), path=local.resolve(), revision=_fingerprint(local))
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelUnavailable(f"{name}: no such model directory.")

    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(name, revision=revision, allow_patterns=MODEL_FILES,
                                      local_files_only=True))
    except Exception:  # not cached (the hub library raises several kinds): try the network
        if _offline():
            raise _unavailable(name, "not in the Hugging Face cache and HF_HUB_OFFLINE is set"
                               ) from None
        path = download_model(name, revision).path
    return ModelRef(name=name, path=path, revision=path.name)


def download_model(name: str, revision: str | None = None) -> ModelRef:
    """Fetch a model into the Hugging Face cache (needs internet)."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(name, revision=revision, allow_patterns=MODEL_FILES))
    except Exception as exc:  # network, auth, unknown repo: all end the same way for a user
        raise _unavailable(name, f"the hub could not be reached: {type(exc).__name__}") from None
    return ModelRef(name=name, path=path, revision=path.name)


def model_summary(ref: ModelRef) -> dict[str, object]:
    """What `ruen model info` shows, read from config.json without loading weights."""
    config = json.loads((ref.path / "config.json").read_text(encoding="utf-8"))
    keys = ["model_type", "vocab_size", "d_model", "encoder_layers", "decoder_layers",
            "max_position_embeddings", "num_beams"]
    summary: dict[str, object] = {"name": ref.name, "path": str(ref.path),
                                  "revision": ref.revision}
    summary.update({k: config[k] for k in keys if k in config})
    generation = ref.path / "generation_config.json"
    if generation.is_file():
        summary["num_beams"] = json.loads(generation.read_text()).get("num_beams", 1)
    summary["files"] = sorted(f.name for f in ref.path.iterdir() if f.is_file())
    return summary
