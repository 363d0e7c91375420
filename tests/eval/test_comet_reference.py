"""ruen's COMET scorer equals unbabel-comet 2.2.7 on random-weight checkpoints of every type it
reads. The checkpoints and unbabel-comet's own scores were made by
`tests/eval/comet_reference/make.py` in unbabel-comet's environment (transformers 4.57); here
they are read with transformers 5 and no unbabel-comet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eval.comet import CometScorer, comet_score

DATA = Path(__file__).parent / "comet_reference" / "data"
REFERENCE = json.loads((DATA / "scores.json").read_text(encoding="utf-8"))
SOURCES, HYPOTHESES, REFERENCES = (list(column) for column in zip(*REFERENCE["triples"],
                                                                     strict=True))
TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=sorted(REFERENCE["models"]))
def model(request: pytest.FixtureRequest) -> tuple[str, CometScorer]:
    return request.param, CometScorer.load(DATA / request.param, cache_dir=DATA / "hub")


def test_reference_was_made_by_unbabel_comet() -> None:
    assert REFERENCE["versions"]["unbabel-comet"] == "2.2.7"
    assert REFERENCE["versions"]["transformers"].startswith("4.")  # not ours: 5


def test_sentence_scores_equal_unbabel_comet(model: tuple[str, CometScorer]) -> None:
    name, scorer = model
    expected = REFERENCE["models"][name]["scores"]
    assert scorer.settings.kind == REFERENCE["models"][name]["class_identifier"]
    got = scorer.score(SOURCES, HYPOTHESES, REFERENCES)
    assert got == pytest.approx(expected, abs=TOLERANCE)
    # the random model tells the sentences apart by far more than the tolerance, so that
    # a scorer off by one layer, pooling or activation could not pass
    assert max(expected) - min(expected) > 100 * TOLERANCE


def test_system_score_equals_unbabel_comet(model: tuple[str, CometScorer]) -> None:
    name, scorer = model
    score, sentences = comet_score(SOURCES, HYPOTHESES, REFERENCES, model=scorer)
    assert score.value == pytest.approx(REFERENCE["models"][name]["system_score"],
                                        abs=TOLERANCE)
    assert score.value == pytest.approx(sum(sentences) / len(sentences))


def test_batching_does_not_change_scores(model: tuple[str, CometScorer]) -> None:
    # padding differs with the batch; the masks must make it invisible
    _, scorer = model
    one_by_one = scorer.score(SOURCES, HYPOTHESES, REFERENCES, batch_size=1)
    assert one_by_one == pytest.approx(scorer.score(SOURCES, HYPOTHESES, REFERENCES,
                                                    batch_size=64), abs=1e-5)


def test_tokenizer_equals_unbabel_comets() -> None:
    # the XLM-R tokenizer files read by transformers 5 give unbabel-comet's ids (4.57)
    scorer = CometScorer.load(DATA / "regression", cache_dir=DATA / "hub")
    assert [scorer.tokenizer(h)["input_ids"] for h in HYPOTHESES] == REFERENCE["mt_ids"]
    longest = max(len(ids) for ids in REFERENCE["mt_ids"])
    assert longest > scorer.max_positions  # one sentence is truncated, as unbabel-comet does


def test_tokenizer_from_sentencepiece_alone(tmp_path: Path) -> None:
    # an encoder repository with sentencepiece.bpe.model and no tokenizer.json (transformers
    # converts it, with protobuf: the comet extra) gives the same ids
    from transformers import XLMRobertaTokenizer

    snapshot = next((DATA / "hub" / "models--ruen--tiny-xlmr" / "snapshots").iterdir())
    shutil.copy(snapshot / "sentencepiece.bpe.model", tmp_path)
    tokenizer = XLMRobertaTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    assert [tokenizer(h)["input_ids"] for h in HYPOTHESES] == REFERENCE["mt_ids"]
