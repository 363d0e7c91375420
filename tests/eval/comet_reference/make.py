"""Build the COMET test data with unbabel-comet itself, in a virtual environment of its own.

    python tests/eval/comet_reference/make.py [--venv DIR]

unbabel-comet 2.2.7 cannot share ruen's environment (it needs transformers < 5, huggingface-hub
< 1.0, numpy < 2), so this script creates a separate venv (torch==2.13.0 first, the CPU wheel,
then the pinned `requirements.txt`), and re-runs itself there with `--inside`. Inside, with
unbabel-comet's own classes, it

1. trains a tiny sentencepiece model on the text below and saves it as an XLM-R tokenizer, with
   tiny XLM-R and XLM-R XL configs, in the Hugging Face cache layout (`data/hub/models--ruen--*`),
   the way `xlm-roberta-large` lies in a user's cache;
2. builds one random-weight COMET model per type in `MODELS` (encoder weights, layer-wise
   attention and estimator drawn at random, not the near-zero defaults, so that every part moves
   the score) and saves it as unbabel-comet's training does: a Lightning checkpoint
   `checkpoints/model.ckpt` beside `hparams.yaml`;
3. loads each one back with `comet.load_from_checkpoint` and scores `TRIPLES` with
   `model.predict`, writing the scores, the token ids and the versions used to `data/scores.json`.

`tests/eval/test_comet_reference.py` (no unbabel-comet needed) compares ruen's scorer with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
# the encoders' hub names, as `xlm-roberta-large` or `facebook/xlm-roberta-xl` in real models
ENCODERS = {"XLM-RoBERTa": "ruen/tiny-xlmr", "XLM-RoBERTa-XL": "ruen/tiny-xlmr-xl"}
REVISION = "0" * 40

# (source, hypothesis, reference): news sentences with the things that break tokenizers and
# pooling: «ёлочки», numbers with units, a hypothesis that kept Cyrillic, an empty one, an exact
# match, and one long enough to be truncated at the tiny encoder's 64 positions.
TRIPLES = [
    ("Силы режима отступают под давлением повстанцев.",
     "Regime forces are retreating under pressure from the rebels.",
     "Regime forces are retreating under rebel pressure."),
    ("Город Хама полностью освобождён после ожесточённых боёв.",
     "The city of Hama has been completely liberated after fierce fighting.",
     "The city of Hama has been completely liberated after fierce fighting."),
    ("«Мы продолжаем двигаться на юг», — заявил представитель командования.",
     "\"We keep moving south,\" a command spokesman said.",
     "\"We continue to move south,\" said a command spokesman."),
    ("Колонна из 120 машин прошла 35 км за 4 часа.",
     "A convoy of 12 vehicles covered 35 km in 4 hours.",
     "A convoy of 120 vehicles covered 35 km in 4 hours."),
    ("В четверг начались новые столкновения в провинции Хомс.",
     "New clashes began in Хомс province on Thursday.",
     "New clashes began in Homs province on Thursday."),
    ("Министр обороны заявил о тактическом отступлении.", "",
     "The defence minister announced a tactical retreat."),
    ("Подкрепления направлены для обеспечения безопасности района, где, по словам местных "
     "жителей, ночью были слышны взрывы и стрельба, а утром над окраинами поднимался дым, и "
     "власти попросили население не покидать дома до особого распоряжения.",
     "Reinforcements have been sent to secure the area where, according to local residents, "
     "explosions and gunfire were heard at night and smoke rose over the outskirts in the "
     "morning, and the authorities asked people not to leave their homes until further notice.",
     "Reinforcements were sent to secure the district where residents said explosions and "
     "shooting were heard overnight and smoke rose above the outskirts in the morning; the "
     "authorities asked people to stay at home until further notice."),
    ("Коалиция взяла полный контроль над несколькими деревнями.",
     "The coalition took control.",
     "The coalition took full control of several villages."),
]

# Text for the tokenizer (the triples and some more of the same register).
CORPUS = [text for triple in TRIPLES for text in triple if text] + [
    "Революционные силы находятся в десяти километрах от города.",
    "The revolutionary forces are ten kilometres from the city.",
    "Гражданское сопротивление укрепляет революцию.",
    "Civil resistance strengthens the revolution.",
    "Представитель ООН призвал стороны к перемирию 5 декабря.",
    "A UN representative called on the parties to agree a ceasefire on 5 December.",
]

# One model per COMET type ruen reads, each with other settings, so that every branch of the
# scorer (pooling, layer mix or a single layer, softmax/sparsemax, layer norm, final activation,
# the unified model's joint encoding with and without a reference) is compared.
MODELS = {
    "regression": ("regression_metric", dict(
        pool="avg", layer="mix", layer_transformation="sparsemax", layer_norm=True,
        hidden_sizes=[48, 24], activations="Tanh", final_activation=None)),
    "regression-cls": ("regression_metric", dict(
        pool="cls", layer=1, layer_transformation="softmax", layer_norm=False,
        hidden_sizes=[32], activations="Tanh", final_activation=None)),
    "referenceless": ("referenceless_regression_metric", dict(
        pool="max", layer="mix", layer_transformation="softmax", layer_norm=False,
        hidden_sizes=[48, 24], activations="Tanh", final_activation="Sigmoid")),
    "kiwi": ("unified_metric", dict(  # CometKiwi: source and hypothesis, one joint encoding
        sent_layer="mix", layer_transformation="sparsemax", layer_norm=True,
        hidden_sizes=[48, 24], activations="Tanh", final_activation="sigmoid",
        input_segments=["mt", "src"], word_level_training=False)),
    "unified": ("unified_metric", dict(  # the three-way unified model (mt+src, mt+ref, all)
        sent_layer="mix", layer_transformation="sparsemax_patch", layer_norm=False,
        hidden_sizes=[48], activations="Tanh", final_activation=None,
        input_segments=["mt", "src", "ref"], word_level_training=False)),
    "kiwi-xl": ("unified_metric", dict(  # CometKiwi-XL's encoder (pre-norm XLM-R XL)
        encoder_model="XLM-RoBERTa-XL", sent_layer="mix", layer_transformation="sparsemax",
        layer_norm=True, hidden_sizes=[48, 24], activations="Tanh", final_activation="sigmoid",
        input_segments=["mt", "src"], word_level_training=False)),
    # hparams.yaml says sparsemax_patch, the checkpoint sparsemax (unbabel-comet's issue #244)
    "regression-patch": ("regression_metric", dict(
        pool="avg", layer="mix", layer_transformation="sparsemax", layer_norm=True,
        hidden_sizes=[48, 24], activations="Tanh", final_activation=None)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", type=Path, default=None,
                        help="unbabel-comet's venv (created if missing; default: a temp dir)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        build()
        return
    venv = args.venv or Path(tempfile.mkdtemp(prefix="comet-reference-"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, before anything
        subprocess.run([*pip, "-r", str(HERE / "requirements.txt")], check=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(DATA / "hub"),
           "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([str(python), str(Path(__file__).resolve()), "--inside"], check=True, env=env)


def build() -> None:
    import shutil

    DATA.mkdir(exist_ok=True)
    for old in DATA.iterdir():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    mt_ids = build_encoders(DATA / "hub")
    results: dict = {"versions": versions(), "triples": TRIPLES, "mt_ids": mt_ids, "models": {}}
    for seed, (name, (kind, settings)) in enumerate(MODELS.items()):
        results["models"][name] = build_model(DATA / name, kind, settings, seed)
    (DATA / "scores.json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in
            ("unbabel-comet", "transformers", "torch", "tokenizers", "pytorch-lightning")}


def build_encoders(hub: Path) -> list[list[int]]:
    """Tiny XLM-R and XLM-R XL encoders in the hub cache: one tokenizer (sentencepiece unigram,
    as XLM-R's) and a config each. Returns the tokenizer's ids of each hypothesis."""
    import io

    import sentencepiece as spm
    from transformers import XLMRobertaTokenizerFast

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 4), model_writer=model, vocab_size=400,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, num_threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "sentencepiece.bpe.model"
        vocab.write_bytes(model.getvalue())
        tokenizer = XLMRobertaTokenizerFast(vocab_file=str(vocab))
        save_encoders(hub, tokenizer)  # while the vocabulary exists, so it is saved too
    return [tokenizer(h)["input_ids"] for _, h, _ in TRIPLES]


def save_encoders(hub: Path, tokenizer: Any) -> None:
    """tokenizer.json and sentencepiece.bpe.model (as xlm-roberta-large has both) and a
    config.json per encoder, in the hub cache's layout."""
    from transformers import XLMRobertaConfig, XLMRobertaXLConfig

    sizes = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=66,
                 initializer_range=0.2, pad_token_id=tokenizer.pad_token_id,
                 bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    for encoder, config in (("XLM-RoBERTa", XLMRobertaConfig(**sizes)),
                            ("XLM-RoBERTa-XL", XLMRobertaXLConfig(**sizes))):
        repo = hub / ("models--" + ENCODERS[encoder].replace("/", "--"))
        snapshot = repo / "snapshots" / REVISION
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(REVISION, encoding="utf-8")
        tokenizer.save_pretrained(str(snapshot))
        config.save_pretrained(str(snapshot))


def build_model(out: Path, kind: str, settings: dict, seed: int) -> dict:
    import pytorch_lightning as ptl
    import torch
    import yaml
    from comet import load_from_checkpoint
    from comet.models import str2model

    torch.manual_seed(seed)
    settings = {"encoder_model": "XLM-RoBERTa", **settings}
    model = str2model[kind](pretrained_model=ENCODERS[settings["encoder_model"]],
                            load_pretrained_weights=False, local_files_only=True, dropout=0.1,
                            **settings)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name:  # around 1 (weights) and 0 (biases), not exactly
                parameter.add_(torch.randn_like(parameter) * 0.1)
            elif "layerwise_attention.scalar" in name:
                parameter.normal_(0.0, 1.0)
            elif name == "layerwise_attention.gamma":
                parameter.fill_(1.3)
            elif name.startswith("estimator") and name.endswith("bias"):
                parameter.uniform_(-0.3, 0.3)
    (out / "checkpoints").mkdir(parents=True)
    trainer = ptl.Trainer(accelerator="cpu", devices=1, logger=False,
                          enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(out / "checkpoints" / "model.ckpt", weights_only=True)
    hparams = dict(model.hparams)
    if out.name == "regression-patch":
        hparams["layer_transformation"] = "sparsemax_patch"
    (out / "hparams.yaml").write_text(yaml.dump(hparams), encoding="utf-8")

    loaded = load_from_checkpoint(str(out / "checkpoints" / "model.ckpt"), local_files_only=True)
    samples = [{"src": s, "mt": h, "ref": r} for s, h, r in TRIPLES]
    if kind == "referenceless_regression_metric":
        samples = [{"src": s["src"], "mt": s["mt"]} for s in samples]
    output = loaded.predict(samples, batch_size=3, gpus=0, progress_bar=False)
    return {"class_identifier": kind, "settings": settings, "scores": list(output.scores),
            "system_score": output.system_score}


if __name__ == "__main__":
    main()
