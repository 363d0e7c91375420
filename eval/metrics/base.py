"""The shared base of our metrics: a sacrebleu metric plus its signature, corpus and sentence
scores as small frozen values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sacrebleu.metrics.base import Metric as SacreMetric

from eval.errors import EvalError


@dataclass(frozen=True)
class Score:
    """A corpus score, e.g. `BLEU = 34.2` with `nrefs:1|case:mixed|...|version:2.6.0`."""

    name: str  # sacrebleu's name for it: BLEU, chrF2++, TER
    value: float
    signature: str
    detail: str = ""  # BLEU's n-gram precisions and brevity penalty
    higher_is_better: bool = True
    decimals: int = 1  # sacrebleu's scores print as 34.2, COMET's as 0.8432

    def format(self, width: int | None = None) -> str:
        text = f"{self.name} = {self.value:.{self.decimals if width is None else width}f}"
        return f"{text} {self.detail}".rstrip()

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "score": round(self.value, 4), "signature": self.signature,
                "detail": self.detail, "higher_is_better": self.higher_is_better}


class Metric:
    """One sacrebleu metric with fixed settings.

    Subclasses set `key`, `higher_is_better` and build the sacrebleu objects: one for corpus
    scores (identical to sacrebleu's CLI) and one for sentence scores (which may differ, e.g.
    BLEU uses effective order on single sentences, as `sacrebleu --sentence-level` does).
    """

    key: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True

    def __init__(self) -> None:
        self.corpus_metric = self._build(sentence=False)
        self.sentence_metric = self._build(sentence=True)

    def _build(self, *, sentence: bool) -> SacreMetric:
        raise NotImplementedError

    @property
    def signature(self) -> str:
        """sacrebleu's signature; before any scoring it assumes one reference (sacrebleu sets
        the number of references when it scores)."""
        if not hasattr(self.corpus_metric, "num_refs"):
            self.corpus_metric.num_refs = 1
        return self.corpus_metric.get_signature().format()

    def corpus_score(self, hypotheses: Sequence[str],
                     references: Sequence[Sequence[str]]) -> Score:
        """Score a whole test set; `references` is a list of reference streams, each as long
        as `hypotheses` (one stream per reference translation)."""
        check_lengths(hypotheses, references)
        score = self.corpus_metric.corpus_score(list(hypotheses), [list(r) for r in references])
        return Score(name=score.name, value=float(score.score), signature=self.signature,
                     detail=self._detail(score), higher_is_better=self.higher_is_better)

    def sentence_scores(self, hypotheses: Sequence[str],
                        references: Sequence[Sequence[str]]) -> list[float]:
        """One score per sentence, against that sentence's references."""
        check_lengths(hypotheses, references)
        return [float(self.sentence_metric.sentence_score(h, [r[i] for r in references]).score)
                for i, h in enumerate(hypotheses)]

    def _detail(self, score: Any) -> str:
        return ""


def check_lengths(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> None:
    if not references:
        raise EvalError("no reference given; pass one with --ref FILE.")
    for number, stream in enumerate(references, start=1):
        if len(stream) != len(hypotheses):
            raise EvalError(f"reference {number} has {len(stream)} sentences but the hypothesis "
                            f"has {len(hypotheses)}; both need one sentence per line, aligned.")
