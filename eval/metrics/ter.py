"""TER (Snover et al. 2006), edits per reference word, through sacrebleu; lower is better."""

from __future__ import annotations

from sacrebleu.metrics import TER as SacreTER

from eval.metrics.base import Metric


class TER(Metric):
    key = "ter"
    higher_is_better = False
    CASE_SENSITIVE = False

    def __init__(self, *, case_sensitive: bool = CASE_SENSITIVE) -> None:
        self.case_sensitive = case_sensitive
        super().__init__()

    def _build(self, *, sentence: bool) -> SacreTER:
        return SacreTER(case_sensitive=self.case_sensitive)
