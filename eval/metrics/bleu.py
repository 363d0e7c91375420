"""BLEU (Papineni et al. 2002) through sacrebleu: 13a tokenisation, exponential smoothing."""

from __future__ import annotations

from typing import Any

from sacrebleu.metrics import BLEU as SacreBLEU

from eval.metrics.base import Metric


class BLEU(Metric):
    key = "bleu"
    TOKENIZE = "13a"
    LOWERCASE = False

    def __init__(self, *, tokenize: str = TOKENIZE, lowercase: bool = LOWERCASE) -> None:
        self.tokenize = tokenize
        self.lowercase = lowercase
        super().__init__()

    def _build(self, *, sentence: bool) -> SacreBLEU:
        # A single sentence rarely has a matching 4-gram: effective order keeps its BLEU from
        # collapsing to 0, as `sacrebleu --sentence-level` does.
        return SacreBLEU(tokenize=self.tokenize, lowercase=self.lowercase,
                         effective_order=sentence)

    def _detail(self, score: Any) -> str:
        precisions = "/".join(f"{p:.1f}" for p in score.precisions)
        return (f"{precisions} (BP = {score.bp:.3f} ratio = {score.ratio:.3f} "
                f"hyp_len = {score.sys_len} ref_len = {score.ref_len})")
