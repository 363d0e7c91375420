"""Find and read a COMET checkpoint as unbabel-comet saves it: `hparams.yaml` beside
`checkpoints/model.ckpt` (a Lightning checkpoint whose `state_dict` holds the encoder, the
layer-wise attention and the estimator), from a directory, the `.ckpt` file itself, or a hub name
in the Hugging Face cache (`Unbabel/wmt22-comet-da`). Nothing is downloaded."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.errors import EvalError

# class_identifier in hparams.yaml -> what the scorer computes (unbabel-comet's str2model)
KINDS = ("regression_metric", "referenceless_regression_metric", "unified_metric")
UNSUPPORTED = {
    "ranking_metric": "a ranking model (it embeds translations for training, it gives no score)",
    "xcomet_metric": "XCOMET (its scores weigh predicted error spans; not implemented here)",
}
ENCODERS = ("XLM-RoBERTa", "XLM-RoBERTa-XL")
DOWNLOAD = "hf download {name}"  # huggingface_hub >= 1.0 has no huggingface-cli


@dataclass(frozen=True)
class CometSettings:
    """The hyper-parameters that decide a COMET model's scores (the rest are for training)."""

    kind: str  # one of KINDS
    encoder_model: str  # XLM-RoBERTa | XLM-RoBERTa-XL
    pretrained_model: str  # the encoder's hub name or directory: tokenizer and config
    pool: str  # avg | max | cls | default (regression models; unified ones take the CLS)
    layer: str | int  # "mix" (layer-wise attention over all layers) or one layer's index
    layer_transformation: str  # softmax | sparsemax (of the layer weights)
    layer_norm: bool  # normalise each layer before mixing
    hidden_sizes: tuple[int, ...]
    activations: str
    final_activation: str | None
    input_segments: tuple[str, ...]  # unified models: ("mt", "src"), ("mt", "src", "ref")...

    @property
    def needs_reference(self) -> bool:
        return self.kind == "regression_metric" or (
            self.kind == "unified_metric" and "src" not in self.input_segments)

    @property
    def reads_reference(self) -> bool:
        return self.kind == "regression_metric" or (
            self.kind == "unified_metric" and "ref" in self.input_segments)


@dataclass(frozen=True)
class CometCheckpoint:
    path: Path  # the model.ckpt file
    settings: CometSettings
    state_dict: dict[str, Any]  # name -> tensor

    @property
    def name(self) -> str:
        """The model's name: its directory (or hub repository) name."""
        folder = self.path.parents[1]
        if folder.parent.name == "snapshots":  # hub cache: models--Unbabel--wmt22-comet-da/...
            return folder.parents[1].name.removeprefix("models--").replace("--", "/")
        return folder.name


def find_checkpoint(model: str | Path, *, cache_dir: Path | None = None) -> Path:
    """The `model.ckpt` of a model directory, a `.ckpt` file, or a hub name in the cache."""
    path = Path(model)
    if path.is_file():
        return path
    candidate = path / "checkpoints" / "model.ckpt"
    if candidate.is_file():
        return candidate
    if path.exists() or "/" not in str(model) or str(model).count("/") > 1:
        raise EvalError(f"{model}: no COMET checkpoint (expected a .ckpt file or a directory "
                        "with checkpoints/model.ckpt and hparams.yaml).")
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(str(model), cache_dir=cache_dir, local_files_only=True)
    except Exception:  # not in the cache (huggingface_hub's errors vary with its version)
        raise EvalError(f"{model}: no such directory, nor in the Hugging Face cache; "
                        f"download it first: `{DOWNLOAD.format(name=model)}`.") from None
    candidate = Path(folder) / "checkpoints" / "model.ckpt"
    if not candidate.is_file():
        raise EvalError(f"{model}: the cached copy has no checkpoints/model.ckpt; download "
                        f"it again: `{DOWNLOAD.format(name=model)}`.")
    return candidate


def read_checkpoint(model: str | Path, *, cache_dir: Path | None = None) -> CometCheckpoint:
    """Read a COMET checkpoint: its settings and state dict (tensors only: the checkpoint is
    unpickled with `weights_only`, so a file cannot run code)."""
    import torch

    path = find_checkpoint(model, cache_dir=cache_dir)
    hparams_file = path.parents[1] / "hparams.yaml"
    if not hparams_file.is_file():
        raise EvalError(f"{hparams_file}: missing; a COMET model has hparams.yaml beside "
                        "checkpoints/ (it names the model's type).")
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise EvalError(f"{path}: holds objects other than tensors and plain data, not loaded "
                        f"(safety): {str(error).splitlines()[-1][:200]}") from None
    except (RuntimeError, EOFError, OSError) as error:
        raise EvalError(f"{path}: not a readable PyTorch checkpoint ({error}).") from None
    if not isinstance(stored, dict) or "state_dict" not in stored:
        raise EvalError(f"{path}: not a Lightning checkpoint (no state_dict).")
    hparams = _read_hparams(hparams_file)
    # unbabel-comet takes the class from hparams.yaml and the settings from the checkpoint
    settings = {**hparams, **stored.get("hyper_parameters", {})}
    return CometCheckpoint(path, _settings(settings, hparams, hparams_file),
                           stored["state_dict"])


def _read_hparams(path: Path) -> dict[str, Any]:
    import yaml

    try:
        hparams = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise EvalError(f"{path}: not readable YAML ({error}).") from None
    if not isinstance(hparams, dict) or "class_identifier" not in hparams:
        raise EvalError(f"{path}: no class_identifier; is this a COMET model?")
    return hparams


def _settings(values: dict[str, Any], hparams: dict[str, Any], where: Path) -> CometSettings:
    kind = hparams["class_identifier"]
    if kind in UNSUPPORTED:
        raise EvalError(f"{where}: {kind} is {UNSUPPORTED[kind]}; ruen scores "
                        f"{', '.join(KINDS)}.")
    if kind not in KINDS:
        raise EvalError(f"{where}: unknown COMET model type {kind!r}; ruen scores "
                        f"{', '.join(KINDS)}.")
    encoder = values.get("encoder_model", "XLM-RoBERTa")
    if encoder not in ENCODERS:
        raise EvalError(f"{where}: encoder {encoder!r} is not supported; ruen reads "
                        f"{', '.join(ENCODERS)}.")
    if values.get("word_level_training"):
        raise EvalError(f"{where}: a word-level (error span) model; ruen scores sentence-level "
                        "COMET models only.")
    # unified models name their layer sent_layer; the base class stored it as layer too
    layer = values.get("sent_layer", values.get("layer", "mix")) if kind == "unified_metric" \
        else values.get("layer", "mix")
    # unbabel-comet mixes with sparsemax only when the setting says exactly that, and since
    # 2.2.4 with softmax whenever hparams.yaml says sparsemax_patch (its issue #244), whatever
    # the checkpoint says
    sparse = values.get("layer_transformation") == "sparsemax" and \
        hparams.get("layer_transformation") != "sparsemax_patch"
    segments = ("mt", "src") if kind == "referenceless_regression_metric" else \
        ("mt", "src", "ref")
    return CometSettings(
        kind=kind, encoder_model=encoder,
        pretrained_model=str(values.get("pretrained_model", "xlm-roberta-large")),
        pool=values.get("pool", "avg"), layer=layer,
        layer_transformation="sparsemax" if sparse else "softmax",
        layer_norm=bool(values.get("layer_norm", True)),
        hidden_sizes=tuple(values.get("hidden_sizes", (3072, 1024))),
        activations=values.get("activations", "Tanh"),
        final_activation=values.get("final_activation"),
        input_segments=tuple(values.get("input_segments", segments)))
