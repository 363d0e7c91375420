"""Corpus and sentence metrics over sacrebleu, one module per metric (as sacrebleu does).

Every score carries the sacrebleu signature of the settings that made it, so that a number is
never separated from how it was computed.
"""

from __future__ import annotations

from eval.metrics.base import Metric, Score
from eval.metrics.bleu import BLEU
from eval.metrics.chrf import CHRF
from eval.metrics.ter import TER

METRICS: dict[str, type[Metric]] = {"bleu": BLEU, "chrf": CHRF, "ter": TER}
"""Name -> class; the names the CLI accepts."""


def default_metrics() -> list[Metric]:
    """BLEU, chrF++ and TER with sacrebleu's defaults (chrF with word order 2)."""
    return [BLEU(), CHRF(), TER()]


__all__ = ["BLEU", "CHRF", "METRICS", "TER", "Metric", "Score", "default_metrics"]
