"""COMET as a user meets it: models found in a directory or the Hugging Face cache, clear
errors for what cannot be scored, and `ruen eval --comet` / `ruen qa --comet` giving
unbabel-comet's numbers (the checkpoints and numbers of tests/eval/comet_reference)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch

from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from eval.comet import CometScorer, score_pairs
from eval.comet.checkpoint import read_checkpoint
from eval.errors import EvalError, MissingExtra
from translate.cli import app

DATA = Path(__file__).parent / "comet_reference" / "data"
REFERENCE = json.loads((DATA / "scores.json").read_text(encoding="utf-8"))
SOURCES, HYPOTHESES, REFERENCES = (list(c) for c in zip(*REFERENCE["triples"], strict=True))


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache holding the tiny encoders, made the default cache (as HF_HUB_CACHE
    does); models are added to it by `cache_model`."""
    cache = tmp_path / "hub"
    shutil.copytree(DATA / "hub", cache)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def cache_model(cache: Path, model: str, repo: str) -> None:
    """Lay a model out as `hf download` does (refs/main -> snapshots/REV)."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    revision = "1" * 40
    shutil.copytree(DATA / model, folder / "snapshots" / revision)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision, encoding="utf-8")


def copy_model(model: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA / model, tmp_path / model))


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


# loading ----------------------------------------------------------------------------------

def test_hub_name_found_in_the_cache(hub: Path) -> None:
    cache_model(hub, "kiwi", "Unbabel/tiny-cometkiwi")
    scorer = CometScorer.load("Unbabel/tiny-cometkiwi")
    assert scorer.name == "Unbabel/tiny-cometkiwi"
    assert scorer.score(SOURCES, HYPOTHESES) == pytest.approx(
        REFERENCE["models"]["kiwi"]["scores"], abs=1e-4)


def test_checkpoint_file_itself(hub: Path) -> None:
    scorer = CometScorer.load(DATA / "regression" / "checkpoints" / "model.ckpt")
    assert scorer.name == "regression"
    assert scorer.settings.needs_reference


def test_model_not_downloaded(hub: Path) -> None:
    with pytest.raises(EvalError, match=r"Unbabel/wmt22-comet-da: no such directory, nor in "
                                        r"the Hugging Face cache.*hf download Unbabel/wmt22"):
        CometScorer.load("Unbabel/wmt22-comet-da")


def test_directory_without_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="no COMET checkpoint"):
        CometScorer.load(tmp_path)


def test_encoder_not_downloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # wmt22-comet-da names xlm-roberta-large: its tokenizer and config come from the cache
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(EvalError, match=r"encoder ruen/tiny-xlmr .*hf download "
                                        r"ruen/tiny-xlmr"):
        CometScorer.load(DATA / "regression")


def test_encoder_with_sentencepiece_only(hub: Path) -> None:
    # infoxlm-style: sentencepiece.bpe.model, no tokenizer.json; transformers converts it
    for tokenizer in hub.glob("models--ruen--tiny-xlmr/snapshots/*/tokenizer.json"):
        tokenizer.unlink()
    assert CometScorer.load(DATA / "kiwi").score(SOURCES, HYPOTHESES) == pytest.approx(
        REFERENCE["models"]["kiwi"]["scores"], abs=1e-4)


def test_encoder_with_sentencepiece_only_without_protobuf(
        hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.utils import import_utils

    for tokenizer in hub.glob("models--ruen--tiny-xlmr/snapshots/*/tokenizer.json"):
        tokenizer.unlink()
    # transformers' own test of whether protobuf is installed, answering no
    monkeypatch.setitem(import_utils.BACKENDS_MAPPING, "protobuf",
                        (lambda: False, import_utils.BACKENDS_MAPPING["protobuf"][1]))
    with pytest.raises(MissingExtra, match=r"ruen/tiny-xlmr .*needs protobuf.*ruen\[comet\]"):
        CometScorer.load(DATA / "kiwi")


def test_missing_hparams(tmp_path: Path) -> None:
    model = copy_model("regression", tmp_path)
    (model / "hparams.yaml").unlink()
    with pytest.raises(EvalError, match=r"hparams.yaml: missing"):
        read_checkpoint(model)


@pytest.mark.parametrize(("kind", "message"), [
    ("xcomet_metric", "XCOMET"),  # error-span weighting: not implemented, said so
    ("ranking_metric", "ranking model"),
    ("my_metric", "unknown COMET model type 'my_metric'"),
])
def test_unsupported_model_types(tmp_path: Path, kind: str, message: str) -> None:
    model = copy_model("unified", tmp_path)
    hparams = model / "hparams.yaml"
    hparams.write_text(hparams.read_text(encoding="utf-8").replace(
        "class_identifier: unified_metric", f"class_identifier: {kind}"), encoding="utf-8")
    with pytest.raises(EvalError, match=message):
        read_checkpoint(model)


def test_truncated_checkpoint(tmp_path: Path) -> None:
    model = copy_model("regression", tmp_path)
    ckpt = model / "checkpoints" / "model.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:5000])  # a download cut short
    with pytest.raises(EvalError, match="not a readable PyTorch checkpoint"):
        read_checkpoint(model)


class Payload:
    """Stands for any class a pickle could smuggle in (and run on load)."""


def test_checkpoint_with_code_is_refused(tmp_path: Path) -> None:
    model = copy_model("regression", tmp_path)
    ckpt = model / "checkpoints" / "model.ckpt"
    stored = torch.load(ckpt, weights_only=True)
    torch.save({**stored, "callbacks": Payload()}, ckpt)
    with pytest.raises(EvalError, match=r"objects other than tensors.*not loaded"):
        read_checkpoint(model)


def test_checkpoint_that_does_not_fit_its_hparams(tmp_path: Path, hub: Path) -> None:
    # a conversion that lost a weight: refused, not run with a random one (unbabel-comet
    # loads with strict=False and would)
    model = copy_model("regression", tmp_path)
    stored = torch.load(model / "checkpoints" / "model.ckpt", weights_only=True)
    del stored["state_dict"]["estimator.ff.3.bias"]
    torch.save(stored, model / "checkpoints" / "model.ckpt")
    with pytest.raises(EvalError, match=r"does not fit its hparams.yaml .*missing 3.bias"):
        CometScorer.load(model)


def test_unused_encoder_weights_are_ignored(tmp_path: Path, hub: Path) -> None:
    # an old checkpoint may carry the encoder's pooler; neither COMET nor ruen uses it
    model = copy_model("kiwi", tmp_path)
    stored = torch.load(model / "checkpoints" / "model.ckpt", weights_only=True)
    stored["state_dict"]["encoder.model.pooler.dense.weight"] = torch.ones(32, 32)
    torch.save(stored, model / "checkpoints" / "model.ckpt")
    assert CometScorer.load(model).score(SOURCES, HYPOTHESES) == pytest.approx(
        REFERENCE["models"]["kiwi"]["scores"], abs=1e-4)


def test_estimator_of_another_shape(tmp_path: Path, hub: Path) -> None:
    # hparams.yaml says hidden sizes 48, 24; the checkpoint's first layer is wider
    model = copy_model("kiwi", tmp_path)
    stored = torch.load(model / "checkpoints" / "model.ckpt", weights_only=True)
    stored["state_dict"]["estimator.ff.0.weight"] = torch.ones(64, 32)
    torch.save(stored, model / "checkpoints" / "model.ckpt")
    with pytest.raises(EvalError, match=r"does not fit .*estimator.ff: size mismatch for 0.weight"):
        CometScorer.load(model)


# scoring ----------------------------------------------------------------------------------

def test_reference_model_needs_references(hub: Path) -> None:
    scorer = CometScorer.load(DATA / "regression")
    with pytest.raises(EvalError, match="needs references"):
        scorer.score(SOURCES, HYPOTHESES)
    pairs = [SentencePair(None, i, 0, ru, en) for i, (ru, en) in
             enumerate(zip(SOURCES, HYPOTHESES, strict=True))]
    with pytest.raises(EvalError, match=r"needs references.*cometkiwi"):
        score_pairs(pairs, model=scorer)


def test_lengths_must_agree(hub: Path) -> None:
    scorer = CometScorer.load(DATA / "kiwi")
    with pytest.raises(EvalError, match="same length"):
        scorer.score(SOURCES, HYPOTHESES[:-1])


def test_progress_after_each_batch(hub: Path) -> None:
    seen: list[int] = []
    CometScorer.load(DATA / "kiwi").score(SOURCES, HYPOTHESES, batch_size=3,
                                          on_progress=seen.append)
    assert seen == [3, 3, 2]


def test_unified_model_without_reference_scores_source_and_hypothesis(hub: Path) -> None:
    # the three-way unified model is referenceless when no reference is given, as in
    # unbabel-comet (one mt+src encoding instead of the mean of three)
    scorer = CometScorer.load(DATA / "unified")
    alone = scorer.score(SOURCES, HYPOTHESES)
    assert not scorer.settings.needs_reference
    assert alone != pytest.approx(REFERENCE["models"]["unified"]["scores"], abs=1e-4)


# the CLI ----------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """The test triples as a user has them: one file per side, line by line."""
    return {name: str(write_lines(tmp_path / f"{name}.txt", lines)) for name, lines in
            (("hyp", HYPOTHESES), ("ref", REFERENCES), ("src", SOURCES))}


def test_eval_with_comet(files: dict[str, str], hub: Path, runner) -> None:
    args = ["eval", files["hyp"], "--ref", files["ref"], "--src", files["src"],
            "--comet", str(DATA / "regression")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = REFERENCE["models"]["regression"]["system_score"]
    assert f"COMET = {expected:.4f}" in result.output
    assert "model:regression|type:regression_metric|nrefs:1|impl:ruen-" in result.output
    result = runner.invoke(app, [*args, "--json"])
    comet = [s for s in json.loads(result.stdout)["scores"] if s["name"] == "COMET"]
    assert comet[0]["score"] == pytest.approx(expected, abs=1e-4)


def test_eval_with_a_referenceless_model(files: dict[str, str], hub: Path, runner) -> None:
    # CometKiwi in eval: the reference is there but unused, and the score says so
    result = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"], "--src",
                                 files["src"], "--comet", str(DATA / "kiwi"), "--json"])
    assert result.exit_code == 0, result.output
    comet = [s for s in json.loads(result.stdout)["scores"] if s["name"] == "COMET-QE"]
    assert comet[0]["score"] == pytest.approx(REFERENCE["models"]["kiwi"]["system_score"],
                                              abs=1e-4)
    assert "|nrefs:0|" in comet[0]["signature"]


def test_eval_comet_needs_the_source(files: dict[str, str], hub: Path, runner) -> None:
    result = runner.invoke(app, ["eval", files["hyp"], "--ref", files["ref"],
                                 "--comet", str(DATA / "regression")])
    assert result.exit_code == 2
    assert "COMET needs the Russian source" in result.output


def test_qa_with_cometkiwi(files: dict[str, str], hub: Path, runner) -> None:
    cache_model(hub, "kiwi", "Unbabel/tiny-cometkiwi")
    args = ["qa", files["hyp"], "--src", files["src"], "--comet", "Unbabel/tiny-cometkiwi"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    comet = json.loads(result.stdout)["comet"]
    expected = REFERENCE["models"]["kiwi"]["scores"]
    assert comet["name"] == "COMET-QE"
    assert [s["score"] for s in comet["sentences"]] == pytest.approx(expected, abs=1e-4)
    assert [s["index"] for s in comet["sentences"]] == list(range(len(expected)))

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    worst = min(range(len(expected)), key=expected.__getitem__)
    # after the flags: the mean, then the lowest-scored translations, lowest first
    assert f"COMET-QE = {sum(expected) / len(expected):.4f}" in result.output
    listed = result.output.split("The 5 lowest by COMET-QE\n", 1)[1].splitlines()
    assert listed[0] == f"line {worst + 1} COMET-QE {expected[worst]:.4f}"
    assert listed[2] == f"  en: {HYPOTHESES[worst]}"


def test_qa_refuses_a_reference_based_model(files: dict[str, str], hub: Path, runner) -> None:
    result = runner.invoke(app, ["qa", files["hyp"], "--src", files["src"],
                                 "--comet", str(DATA / "regression")])
    assert result.exit_code == 2
    assert "needs references" in result.output
    assert "Traceback" not in result.output


def test_qa_of_the_archive_with_cometkiwi(db: Path, hub: Path, runner) -> None:
    pairs = [SentencePair(None, i, 0, ru, en, start=0, end=len(ru))
             for i, (ru, en) in enumerate(zip(SOURCES, HYPOTHESES, strict=True))]
    with Archive(db) as archive:
        doc = archive.save_document(Document("news.txt", "news", "\n".join(SOURCES)), pairs,
                                    System("opus-mt-ru-en"))
    result = runner.invoke(app, ["qa", "--db", str(db), "--comet", str(DATA / "kiwi"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    sentences = json.loads(result.stdout)["comet"]["sentences"]
    assert {(s["doc"], s["index"]) for s in sentences} == {(doc, i) for i in range(len(pairs))}
    by_index = {s["index"]: s["score"] for s in sentences}
    assert [by_index[i] for i in range(len(pairs))] == pytest.approx(
        REFERENCE["models"]["kiwi"]["scores"], abs=1e-4)


def test_a_wrong_comet_model_stops_qa_before_any_work(db: Path, hub: Path, runner) -> None:
    # with --save, the flags would have been stored before COMET failed
    pairs = [SentencePair(None, 0, 0, SOURCES[4], HYPOTHESES[4], start=0, end=len(SOURCES[4]))]
    with Archive(db) as archive:
        archive.save_document(Document("news.txt", "news", SOURCES[4]), pairs, System("m"))
    for model, message in ((DATA / "regression", "needs references"),
                           (DATA / "nowhere", "no COMET checkpoint")):
        result = runner.invoke(app, ["qa", "--db", str(db), "--save", "--comet", str(model)])
        assert result.exit_code == 2
        assert message in result.output
        assert "Flags stored" not in result.output
