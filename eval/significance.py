"""Is system B really better than baseline A? sacrebleu's paired tests on the same references.

Paired bootstrap resampling (Koehn 2004, `sacrebleu --paired-bs`) gives each system's mean score
with a 95% confidence interval and a p-value against the baseline; paired approximate
randomisation (`--paired-ar`, Riezler and Maxwell 2005) gives p-values (CIs from a bootstrap).
The seed is sacrebleu's: `SACREBLEU_SEED` (default 12345), so numbers match its CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sacrebleu.significance import PairedTest

from eval.errors import EvalError
from eval.metrics import Metric, default_metrics
from eval.metrics.base import check_lengths

Method = Literal["bs", "ar"]
SAMPLES = {"bs": 1000, "ar": 10000}  # sacrebleu's defaults
ALPHA = 0.05


@dataclass(frozen=True)
class SystemScore:
    """One system under one metric: score, bootstrap mean ± 95% CI, p-value vs the baseline."""

    system: str
    metric: str
    score: float
    mean: float | None
    ci: float | None
    p_value: float | None  # None for the baseline itself

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    def as_json(self) -> dict[str, Any]:
        return {"system": self.system, "metric": self.metric, "score": round(self.score, 4),
                "mean": _r(self.mean), "ci": _r(self.ci), "p_value": _r(self.p_value)}


@dataclass(frozen=True)
class Comparison:
    method: Method
    samples: int
    baseline: str
    signatures: dict[str, str]  # metric name -> signature (with seed and number of samples)
    scores: tuple[SystemScore, ...]

    @property
    def metrics(self) -> list[str]:
        return list(self.signatures)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(s.system for s in self.scores))

    def get(self, system: str, metric: str) -> SystemScore:
        return next(s for s in self.scores if s.system == system and s.metric == metric)

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "samples": self.samples, "baseline": self.baseline,
                "signatures": self.signatures, "scores": [s.as_json() for s in self.scores]}


def compare_systems(systems: Sequence[tuple[str, Sequence[str]]],
                    references: Sequence[Sequence[str]], *,
                    metrics: Sequence[Metric] | None = None, method: Method = "bs",
                    samples: int | None = None) -> Comparison:
    """Compare systems on the same references; the first system is the baseline."""
    if len(systems) < 2:
        raise EvalError("a comparison needs a baseline and at least one other system.")
    if method not in SAMPLES:
        raise EvalError(f"unknown test {method!r}; use bs (paired bootstrap) or ar.")
    names = [name for name, _ in systems]
    if len(set(names)) != len(names):
        raise EvalError(f"system names must differ: {', '.join(names)}.")
    for name, hypotheses in systems:
        try:
            check_lengths(hypotheses, references)
        except EvalError as exc:
            raise EvalError(f"system {name}: {exc}") from None
    metrics = list(metrics) if metrics is not None else default_metrics()
    samples = samples or SAMPLES[method]
    logging.getLogger("sacrebleu").setLevel(logging.WARNING)
    test = PairedTest(
        [(name, list(hyps)) for name, hyps in systems],
        {m.key: m.corpus_metric for m in metrics},
        [list(r) for r in references], test_type=method, n_samples=samples,
        # AR: estimate CIs with sacrebleu's default 1000 bootstrap resamples
        n_ar_confidence=0 if method == "ar" else -1,
    )
    signatures, table = test()
    # sacrebleu's bootstrap gives a system identical to the baseline p = 1/(n+1), "significant":
    # every resampled difference is 0 and none exceeds the real one. Nothing differs: p = 1.
    same = {name for name, hyps in systems[1:] if list(hyps) == list(systems[0][1])}
    scores = []
    for metric, results in table.items():
        if metric == "System":
            continue
        for name, result in zip(table["System"], results, strict=True):
            p_value = 1.0 if name in same else _f(result.p_value)
            scores.append(SystemScore(name, metric, float(result.score), _f(result.mean),
                                      _f(result.ci), p_value))
    return Comparison(method, samples, names[0],
                      {name: sig.format() for name, sig in signatures.items()}, tuple(scores))


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
