"""BLEU through our wrapper: values, signature and sentence scores."""

from __future__ import annotations

import pytest

from eval.metrics import BLEU

REF = ["The city of Hama was liberated after fierce fighting.",
       "Rebels entered Aleppo on Wednesday."]


@pytest.mark.parametrize(("hyps", "expected"), [
    (REF, 100.0),  # identical
    (["Completely different words here", "Nothing alike at all"], 0.0),  # no overlap
])
def test_corpus_bleu_extremes(hyps: list[str], expected: float) -> None:
    assert BLEU().corpus_score(hyps, [REF]).value == pytest.approx(expected, abs=1e-6)


def test_bleu_carries_its_signature_and_detail() -> None:
    score = BLEU().corpus_score(["The city of Hama was liberated.", REF[1]], [REF])
    assert score.name == "BLEU"
    assert score.signature.startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert "BP = " in score.detail  # the hypothesis is shorter: brevity penalty shown
    assert score.format().startswith(f"BLEU = {score.value:.1f}")


def test_sentence_bleu_uses_effective_order() -> None:
    # a 3-word sentence has no 4-gram: without effective order its BLEU would be 0
    [score] = BLEU().sentence_scores(["Rebels entered Aleppo"], [["Rebels entered Aleppo"]])
    assert score == pytest.approx(100.0)


def test_lowercase_setting_reaches_the_signature() -> None:
    metric = BLEU(lowercase=True)
    assert "case:lc" in metric.signature
    assert metric.corpus_score([REF[1].upper()], [[REF[1]]]).value == pytest.approx(100.0)
