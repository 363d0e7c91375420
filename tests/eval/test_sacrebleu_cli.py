"""Our numbers are sacrebleu's: the same files through `python -m sacrebleu` give the same
scores, signatures and paired-bootstrap results."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eval.evaluate import evaluate
from eval.metrics import default_metrics
from eval.readers import read_sentences
from eval.significance import compare_systems

REF = """The Syrian Democratic Forces said they hold positions east of the Euphrates.
An SDF spokesman reported clashes with the Syrian National Army near Manbij.
Hayat Tahrir al-Sham fighters entered central Aleppo on Wednesday morning.
According to sources, HTS has taken control of Aleppo International Airport.
Humanitarian organizations warned of shortages of fuel and medicine in Idlib.
The regime forces withdrew from Hama after two days of fighting.
Rebels are ten kilometres from Homs, a commander said.
The coalition took full control of several villages.
"""
HYP = """The Syrian Democratic Forces said they are holding positions east of Euphrates.
A spokesman of SDF reported clashes with Syrian National Army near Manbij.
Fighters of Hayat Tahrir al-Sham entered the centre of Aleppo on Wednesday.
According to sources, HTS took control of the international airport of Aleppo.
Humanitarian organisations warned of a shortage of fuel and medicines in Idlib.
Regime forces withdrew from Hama after two days of battles.
The rebels are 10 kilometers from Homs, said a commander.
The coalition has taken full control over several villages.
"""
BASE = """Syrian Democratic Forces said they keep positions to the east of the Euphrates.
The representative of SDF said about clashes with the Syrian national army under Manbij.
The fighters of Hayat Tahrir ash-Sham came into the center of Aleppo on Wednesday morning.
By data of sources, HTS took under control the international airport of Aleppo.
Humanitarian organizations warned about deficit of fuel and drugs in Idlib.
Forces of the regime left Hama after two days of fights.
Rebels are in ten kilometers from Homs, the commander said.
Coalition took full control over some villages.
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in {"ref": REF, "hyp": HYP, "base": BASE}.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def sacrebleu(*args: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "sacrebleu", *args, "-f", "json"],
                          capture_output=True, text=True, check=True)
    value = json.loads(done.stdout)
    return value if isinstance(value, list) else [value]


def test_corpus_scores_equal_sacrebleu_cli(files: dict[str, Path]) -> None:
    cli = sacrebleu(str(files["ref"]), "-i", str(files["hyp"]), "-m", "bleu", "chrf", "ter",
                    "--chrf-word-order", "2", "-w", "4")
    hyps, refs = read_sentences(files["hyp"]), [read_sentences(files["ref"])]
    ours = [m.corpus_score(hyps, refs) for m in default_metrics()]
    assert [s.name for s in ours] == [c["name"] for c in cli] == ["BLEU", "chrF2++", "TER"]
    for score, theirs in zip(ours, cli, strict=True):
        assert round(score.value, 4) == pytest.approx(theirs["score"], abs=1e-4)
        assert score.signature == theirs["signature"]


def test_paired_bootstrap_equals_sacrebleu_cli(files: dict[str, Path]) -> None:
    cli = sacrebleu(str(files["ref"]), "-i", str(files["base"]), str(files["hyp"]),
                    "-m", "bleu", "--paired-bs", "--paired-bs-n", "200", "-w", "4")
    refs = [read_sentences(files["ref"])]
    systems = [("base", read_sentences(files["base"])), ("hyp", read_sentences(files["hyp"]))]
    ours = compare_systems(systems, refs, metrics=default_metrics()[:1], samples=200)
    assert ours.signatures["BLEU"].startswith("nrefs:1|bs:200|seed:12345|")
    # sacrebleu's JSON: one object per system, baseline first
    theirs = cli[1]["BLEU"]
    bleu = ours.get("hyp", "BLEU")
    assert (bleu.score, bleu.mean, bleu.ci, bleu.p_value) == pytest.approx(
        (theirs["score"], theirs["mean"], theirs["ci"], theirs["p_value"]), abs=1e-3)
    assert ours.get("base", "BLEU").p_value is None  # the baseline is not tested against itself


def test_paired_bootstrap_chrf_equals_sacrebleu_text(files: dict[str, Path]) -> None:
    # sacrebleu 2.6 cannot write chrF's bootstrap results as JSON (float32): read its table
    done = subprocess.run(
        [sys.executable, "-m", "sacrebleu", str(files["ref"]), "-i", str(files["base"]),
         str(files["hyp"]), "-m", "chrf", "--chrf-word-order", "2", "--paired-bs",
         "--paired-bs-n", "200", "-w", "4", "-f", "text"],
        capture_output=True, text=True, check=True)
    numbers = [float(x) for x in re.findall(r"\d+\.\d+", done.stdout.split("hyp.txt", 1)[1])]
    score, mean, ci, p_value = numbers[:4]
    systems = [("base", read_sentences(files["base"])), ("hyp", read_sentences(files["hyp"]))]
    ours = compare_systems(systems, [read_sentences(files["ref"])],
                           metrics=default_metrics()[1:2], samples=200).get("hyp", "chrF2++")
    assert (ours.score, ours.mean, ours.ci, ours.p_value) == pytest.approx(
        (score, mean, ci, p_value), abs=1e-4)


def test_evaluate_reports_the_same_corpus_scores(files: dict[str, Path]) -> None:
    hyps, refs = read_sentences(files["hyp"]), [read_sentences(files["ref"])]
    result = evaluate(hyps, refs)
    cli = sacrebleu(str(files["ref"]), "-i", str(files["hyp"]), "-m", "bleu", "chrf", "ter",
                    "--chrf-word-order", "2", "-w", "4")
    assert [round(s.value, 4) for s in result.scores] == [c["score"] for c in cli]
