"""chrF++: word order 2 by default (sacrebleu's own default is plain chrF)."""

from __future__ import annotations

import pytest
from sacrebleu.metrics import CHRF as SacreCHRF

from eval.metrics import CHRF

REF = ["The city of Hama was liberated after fierce fighting."]
HYP = ["The town of Hama was freed after heavy fighting."]


def test_default_is_chrf_plus_plus() -> None:
    score = CHRF().corpus_score(HYP, [REF])
    assert score.name == "chrF2++"
    assert "nw:2" in score.signature
    expected = SacreCHRF(word_order=2).corpus_score(HYP, [REF]).score
    assert score.value == pytest.approx(expected)
    # and it is not plain chrF, which scores this pair differently
    assert score.value != pytest.approx(SacreCHRF().corpus_score(HYP, [REF]).score)


def test_plain_chrf_on_request() -> None:
    score = CHRF(word_order=0).corpus_score(HYP, [REF])
    assert score.name == "chrF2" and "nw:0" in score.signature


@pytest.mark.parametrize(("hyp", "low", "high"), [
    (REF[0], 100.0, 100.0),  # identical
    ("", 0.0, 0.0),  # empty hypothesis
    (HYP[0], 40.0, 80.0),  # a paraphrase: partial credit
])
def test_sentence_chrf(hyp: str, low: float, high: float) -> None:
    [score] = CHRF().sentence_scores([hyp], [REF])
    assert low - 1e-6 <= score <= high + 1e-6
