"""The HTML report: one self-contained file with tables, embedded PNG plots, escaped text."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from corpus.types import Flag, SentencePair
from eval.errors import EvalError, MissingExtra
from eval.evaluate import evaluate
from eval.report import length_bins, render_report, write_report
from eval.review import Finding

REF = ["The regime forces withdrew from Hama after two days of fighting.",
       "Rebels are ten kilometres from Homs, a commander said.",
       "The coalition took full control of several villages near the river."]
HYP = ["Regime forces withdrew from Hama after two days of battles.",
       "The rebels are 10 kilometers from Homs <said> a commander.",
       "Coalition took control."]
SRC = ["Силы режима отступили из Хамы после двух дней боев.",
       "Повстанцы в десяти километрах от Хомса, сообщил командир.",
       "Коалиция взяла полный контроль над несколькими деревнями у реки."]


def pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"src='data:image/png;base64,([^']+)'", html)]


def test_report_has_scores_plots_and_worst_sentences() -> None:
    result = evaluate(HYP, [REF], sources=SRC)
    finding = Finding(SentencePair(None, 1, 0, SRC[1], HYP[1]),
                      (Flag("numbers", "error", "numbers differ"),))
    html = render_report(result, worst=2, findings=[finding])
    images = pngs(html)
    assert len(images) == 2  # score distribution, score by length
    assert all(image.startswith(b"\x89PNG") for image in images)
    for score in result.scores:
        assert score.signature in html
    assert "The 2 worst sentences" in html
    assert "Coalition took control." in html  # the worst sentence is listed
    assert "&lt;said&gt;" in html and "<said>" not in html  # text is escaped
    assert "numbers differ" in html


def test_report_with_a_baseline_adds_the_comparison_plot() -> None:
    baseline = ["Forces of regime left Hama.", "Rebels in ten km from Homs.", "Coalition."]
    result = evaluate(HYP, [REF], baseline=("old", baseline), samples=50)
    html = render_report(result)
    assert len(pngs(html)) == 3
    assert "Systems compared" in html and "old (baseline)" in html and "p = " in html


def test_write_report(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.html", evaluate(HYP, [REF]))
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    with pytest.raises(EvalError, match="cannot write the report"):
        write_report(tmp_path / "missing" / "r.html", evaluate(HYP, [REF]))


def test_length_bins_average_per_bin() -> None:
    result = evaluate(HYP, [REF], sources=SRC)
    bins = length_bins(result.sentences)
    assert [(label, n) for label, n, _ in bins] == [("1–10", 3)]
    assert bins[0][2] == pytest.approx(sum(s.chrf for s in result.sentences) / 3)


def test_without_matplotlib_the_report_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtra, match=r"pip install 'ruen\[report\]'"):
        render_report(evaluate(HYP, [REF]))
