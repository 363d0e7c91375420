"""One evaluation of a hypothesis against references: corpus scores with signatures, sentence
scores, terminology, and an optional comparison with other systems. The CLI and the report read
an `EvalResult`; nothing here prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eval.errors import EvalError
from eval.metrics import BLEU, CHRF, Metric, Score, default_metrics
from eval.metrics.base import check_lengths
from eval.significance import Comparison, Method, compare_systems
from eval.terms import TermReport, TermSource, term_report

PERFECT = 100.0  # chrF++ of a sentence identical to its reference


@dataclass(frozen=True)
class SentenceScore:
    index: int  # 0-based line (or sentence index in the document)
    hyp: str
    refs: tuple[str, ...]
    chrf: float
    bleu: float
    src: str = ""

    @property
    def length(self) -> int:
        """Length in words of the source (of the first reference when there is no source)."""
        return len((self.src or self.refs[0]).split())

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "chrf": round(self.chrf, 2), "bleu": round(self.bleu, 2),
                "src": self.src, "hyp": self.hyp, "ref": self.refs[0] if self.refs else ""}


@dataclass(frozen=True)
class EvalResult:
    name: str
    scores: tuple[Score, ...]
    sentences: tuple[SentenceScore, ...]
    terms: TermReport | None = None
    comparison: Comparison | None = None
    system_scores: dict[str, tuple[Score, ...]] = field(default_factory=dict)
    extra: tuple[Score, ...] = ()  # COMET and other optional metrics
    baseline: str | None = None  # the --baseline system's name; None: none was given

    @property
    def signature(self) -> str:
        """Every metric's signature, `name:signature` joined by ` ; `, for storing with the run."""
        return " ; ".join(f"{s.name}:{s.signature}" for s in (*self.scores, *self.extra))

    def worst(self, n: int) -> list[SentenceScore]:
        """The n sentences with the lowest chrF++ (ties: lowest BLEU, then document order);
        a sentence that matches its reference (chrF++ 100) is never among them."""
        imperfect = [s for s in self.sentences if s.chrf < PERFECT]
        return sorted(imperfect, key=lambda s: (s.chrf, s.bleu, s.index))[:max(n, 0)]

    def label(self, system: str) -> str:
        """A system's name as a comparison table shows it: `(baseline)` after the --baseline
        one only, `(hypothesis)` after the one evaluated when other systems are compared
        with it."""
        if system == self.baseline:
            return f"{system} (baseline)"
        return f"{system} (hypothesis)" if system == self.name else system

    def as_json(self, worst: int = 0) -> dict[str, Any]:
        return {
            "name": self.name,
            "sentences": len(self.sentences),
            "scores": [s.as_json() for s in (*self.scores, *self.extra)],
            "terms": self.terms.as_json() if self.terms else None,
            "comparison": self.comparison.as_json() if self.comparison else None,
            "worst": [s.as_json() for s in self.worst(worst)],
            "sentence_scores": [{"index": s.index, "chrf": round(s.chrf, 2),
                                 "bleu": round(s.bleu, 2)} for s in self.sentences],
        }


def evaluate(hypotheses: Sequence[str], references: Sequence[Sequence[str]], *,
             sources: Sequence[str] | None = None, glossary: TermSource | None = None,
             name: str = "hypothesis", baseline: tuple[str, Sequence[str]] | None = None,
             systems: Sequence[tuple[str, Sequence[str]]] = (), method: Method = "bs",
             samples: int | None = None,
             metrics: Sequence[Metric] | None = None) -> EvalResult:
    """Score `hypotheses` against reference streams (each as long as the hypotheses).

    `baseline` and `systems` add a paired significance test: the baseline (else the hypothesis)
    is what the others are compared with. `glossary` (with `sources`) adds term accuracy.
    """
    check_lengths(hypotheses, references)
    if sources is not None and len(sources) != len(hypotheses):
        raise EvalError(f"the source has {len(sources)} sentences but the hypothesis has "
                        f"{len(hypotheses)}; they must be aligned line by line.")
    if glossary is not None and sources is None:
        raise EvalError("term accuracy needs the Russian source: add --src FILE.")
    metrics = list(metrics) if metrics is not None else default_metrics()
    scores = tuple(m.corpus_score(hypotheses, references) for m in metrics)
    chrf, bleu = CHRF().sentence_scores(hypotheses, references), \
        BLEU().sentence_scores(hypotheses, references)
    sentences = tuple(
        SentenceScore(i, h, tuple(r[i] for r in references), chrf[i], bleu[i],
                      sources[i] if sources is not None else "")
        for i, h in enumerate(hypotheses))
    terms = term_report(sources, hypotheses, glossary) if glossary and sources else None
    named = ([baseline] if baseline else []) + [(name, hypotheses)] + list(systems)
    comparison = None
    system_scores: dict[str, tuple[Score, ...]] = {}
    if len(named) > 1:
        comparison = compare_systems(named, references, metrics=metrics, method=method,
                                     samples=samples)
        system_scores = {n: tuple(m.corpus_score(h, references) for m in metrics)
                         for n, h in named}
    return EvalResult(name, scores, sentences, terms, comparison, system_scores,
                      baseline=baseline[0] if baseline else None)
