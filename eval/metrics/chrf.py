"""chrF++ (Popović 2017): character 6-grams and word bigrams. sacrebleu's default is plain chrF
(word order 0); we default to 2, the ++ variant, as recent shared tasks report."""

from __future__ import annotations

from sacrebleu.metrics import CHRF as SacreCHRF

from eval.metrics.base import Metric


class CHRF(Metric):
    key = "chrf"
    CHAR_ORDER = 6
    WORD_ORDER = 2
    BETA = 2

    def __init__(self, *, char_order: int = CHAR_ORDER, word_order: int = WORD_ORDER,
                 beta: int = BETA) -> None:
        self.char_order = char_order
        self.word_order = word_order
        self.beta = beta
        super().__init__()

    def _build(self, *, sentence: bool) -> SacreCHRF:
        return SacreCHRF(char_order=self.char_order, word_order=self.word_order, beta=self.beta)
