"""COMET (Rei et al. 2020), the neural metric serious MT evaluation reports today. Optional:
`pip install '.[comet]'` and a COMET model on disk (e.g. Unbabel/wmt22-comet-da downloaded
with `huggingface-cli download`); without either, a clear message instead of a score."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval.errors import EvalError, MissingExtra
from eval.metrics.base import Score

INSTALL = "pip install 'ruen[comet]'"


def available() -> bool:
    try:
        import comet  # noqa: F401
    except ImportError:
        return False
    return True


def checkpoint_of(model: Path) -> Path:
    """A `.ckpt` file, or a downloaded model directory holding `checkpoints/model.ckpt`."""
    model = Path(model)
    if model.is_file():
        return model
    candidate = model / "checkpoints" / "model.ckpt"
    if candidate.is_file():
        return candidate
    raise EvalError(f"{model}: no COMET checkpoint (expected a .ckpt file or a directory with "
                    "checkpoints/model.ckpt); download one, e.g. Unbabel/wmt22-comet-da.")


def comet_score(sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str],
                *, model: Path, batch_size: int = 8, gpus: int = 0) -> tuple[Score, list[float]]:
    """System COMET score and sentence scores (COMET needs the source too)."""
    try:
        import comet
    except ImportError:
        raise MissingExtra(f"COMET is not installed; `{INSTALL}` and pass --comet MODEL.") from None
    checkpoint = checkpoint_of(model)
    if not (len(sources) == len(hypotheses) == len(references)):
        raise EvalError("COMET needs source, hypothesis and reference of the same length.")
    scorer = comet.load_from_checkpoint(str(checkpoint))
    data = [{"src": s, "mt": h, "ref": r}
            for s, h, r in zip(sources, hypotheses, references, strict=True)]
    output = scorer.predict(data, batch_size=batch_size, gpus=gpus, progress_bar=False)
    version = getattr(comet, "__version__", "unknown")
    name = Path(model).name
    signature = f"model:{name}|nrefs:1|version:{version}"
    return (Score("COMET", float(output.system_score), signature),
            [float(s) for s in output.scores])
