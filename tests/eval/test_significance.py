"""Paired significance tests: CIs, p-values and the errors a user can make."""

from __future__ import annotations

import pytest

from eval.errors import EvalError
from eval.metrics import BLEU, CHRF
from eval.significance import compare_systems

REF = [f"The rebels took village number {i} after a day of fighting." for i in range(30)]
GOOD = list(REF)
BAD = [f"Rebels have captured the village {i} after fights." for i in range(30)]


def test_bootstrap_gives_ci_and_p_value() -> None:
    result = compare_systems([("bad", BAD), ("good", GOOD)], [REF], metrics=[BLEU(), CHRF()],
                             samples=200)
    assert result.systems == ["bad", "good"] and result.baseline == "bad"
    good = result.get("good", "BLEU")
    assert good.score == pytest.approx(100.0)
    assert good.ci is not None and good.mean is not None
    assert good.p_value is not None and good.p_value < 0.05 and good.significant
    baseline = result.get("bad", "chrF2++")
    assert baseline.p_value is None and baseline.ci is not None and baseline.ci > 0
    assert "bs:200" in result.signatures["BLEU"]


def test_a_system_against_itself_is_not_significant() -> None:
    result = compare_systems([("a", BAD), ("b", BAD)], [REF], metrics=[CHRF()], samples=200)
    # regression: sacrebleu itself says p = 1/(n+1) here, i.e. "significant"
    assert result.get("b", "chrF2++").p_value == 1.0
    assert not result.get("b", "chrF2++").significant


def test_approximate_randomisation() -> None:
    result = compare_systems([("bad", BAD), ("good", GOOD)], [REF], metrics=[BLEU()],
                             method="ar", samples=300)
    good = result.get("good", "BLEU")
    assert good.p_value is not None and good.p_value < 0.05
    assert good.ci is not None  # estimated by a bootstrap


@pytest.mark.parametrize(("systems", "message"), [
    ([("a", BAD)], "needs a baseline and at least one other"),
    ([("a", BAD), ("a", GOOD)], "names must differ"),
    ([("a", BAD), ("b", GOOD[:5])], "system b: reference 1 has 30 sentences"),
])
def test_user_errors(systems: list, message: str) -> None:
    with pytest.raises(EvalError, match=message):
        compare_systems(systems, [REF], metrics=[BLEU()], samples=10)


def test_unknown_method() -> None:
    with pytest.raises(EvalError, match="unknown test"):
        compare_systems([("a", BAD), ("b", GOOD)], [REF], method="xx")  # type: ignore[arg-type]
