"""TER: edits per reference word, lower is better, case-insensitive by default."""

from __future__ import annotations

import pytest

from eval.errors import EvalError
from eval.metrics import TER

REF = ["Rebels entered Aleppo on Wednesday ."]


@pytest.mark.parametrize(("hyp", "expected"), [
    ("Rebels entered Aleppo on Wednesday .", 0.0),
    ("rebels entered aleppo on wednesday .", 0.0),  # case is ignored by default
    ("Rebels entered Aleppo on Thursday .", 100 / 6),  # one substitution in six words
    ("Rebels entered Aleppo .", 200 / 6),  # two deletions
])
def test_ter(hyp: str, expected: float) -> None:
    score = TER().corpus_score([hyp], [REF])
    assert score.value == pytest.approx(expected)
    assert score.higher_is_better is False
    assert score.signature.startswith("nrefs:1|case:lc|tok:tercom")


def test_lengths_must_match() -> None:
    with pytest.raises(EvalError, match="reference 1 has 1 sentences but the hypothesis has 2"):
        TER().corpus_score(["a", "b"], [REF])
