"""COMET (Rei et al. 2020), the neural metric MT evaluation reports today, computed by our own
reader of unbabel-comet checkpoints (unbabel-comet itself pins transformers < 5 and cannot be
installed beside ruen). Reads `regression_metric` (wmt22-comet-da), the referenceless
`referenceless_regression_metric` and `unified_metric` models (CometKiwi: source and hypothesis
only) with XLM-R or XLM-R XL encoders, from a directory or the Hugging Face cache, offline.

Equal to unbabel-comet 2.2.7 on random-weight checkpoints of every supported type, to 1e-4
(`tests/eval/test_comet_reference.py`; the data come from `tests/eval/comet_reference/make.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.types import SentencePair
from eval.comet.checkpoint import CometSettings, read_checkpoint
from eval.comet.scorer import CometScorer
from eval.errors import EvalError
from eval.metrics.base import Score

__all__ = ["CometQuality", "CometScorer", "CometSettings", "comet_score", "read_checkpoint",
           "referenceless", "score_pairs"]

DECIMALS = 4  # COMET scores are printed as unbabel-comet prints them: 0.8432


def signature(scorer: CometScorer, *, nrefs: int) -> str:
    """How the number was made: model, type, references, and that ruen's reader made it."""
    from translate import __version__

    return (f"model:{scorer.name}|type:{scorer.settings.kind}|nrefs:{nrefs}"
            f"|impl:ruen-{__version__}")


def comet_score(sources: Sequence[str], hypotheses: Sequence[str],
                references: Sequence[str] | None, *, model: str | Path | CometScorer,
                batch_size: int = 8, cache_dir: Path | None = None,
                on_progress: Callable[[int], None] | None = None) -> tuple[Score, list[float]]:
    """System COMET score (the mean, as unbabel-comet's `system_score`) and sentence scores.
    `model`: a loaded scorer, or what `CometScorer.load` takes. COMET needs the source too;
    referenceless models (CometKiwi) ignore `references`."""
    scorer = _scorer(model, cache_dir)
    sentences = scorer.score(sources, hypotheses, references, batch_size=batch_size,
                             on_progress=on_progress)
    nrefs = 1 if references is not None and scorer.settings.reads_reference else 0
    value = sum(sentences) / len(sentences) if sentences else 0.0
    name = "COMET" if nrefs else "COMET-QE"
    return Score(name, value, signature(scorer, nrefs=nrefs), decimals=DECIMALS), sentences


@dataclass(frozen=True)
class CometQuality:
    """Referenceless COMET over translation pairs (`ruen qa --comet`): the mean and each
    pair's score, in the pairs' order."""

    score: Score
    pairs: tuple[SentencePair, ...]
    sentences: tuple[float, ...]

    def lowest(self, n: int) -> list[tuple[SentencePair, float]]:
        """The n pairs the model likes least, lowest first."""
        ranked = sorted(zip(self.pairs, self.sentences, strict=True), key=lambda x: x[1])
        return ranked[:n]

    def as_json(self) -> dict[str, Any]:
        return {**self.score.as_json(),
                "sentences": [{"doc": p.doc, "index": p.index, "score": round(v, 4)}
                              for p, v in zip(self.pairs, self.sentences, strict=True)]}


def score_pairs(pairs: Sequence[SentencePair], *, model: str | Path | CometScorer,
                batch_size: int = 8, cache_dir: Path | None = None,
                on_progress: Callable[[int], None] | None = None) -> CometQuality:
    """Score Russian/English pairs without references: the model must be referenceless
    (CometKiwi or a QE model); a reference-based one is refused, not run on half its input."""
    scorer = referenceless(_scorer(model, cache_dir))
    score, sentences = comet_score([p.ru for p in pairs], [p.en for p in pairs], None,
                                   model=scorer, batch_size=batch_size, on_progress=on_progress)
    return CometQuality(score, tuple(pairs), tuple(sentences))


def referenceless(scorer: CometScorer) -> CometScorer:
    """The scorer, if it can score without references (else a message saying what can)."""
    if scorer.settings.needs_reference:
        raise EvalError(f"COMET model {scorer.name} needs references; checks without "
                        "references need a referenceless model, e.g. "
                        "Unbabel/wmt22-cometkiwi-da (or use `ruen eval --comet`).")
    return scorer


def _scorer(model: str | Path | CometScorer, cache_dir: Path | None) -> CometScorer:
    return model if isinstance(model, CometScorer) else CometScorer.load(model,
                                                                          cache_dir=cache_dir)
