"""Random-weight Marian checkpoints for tests and benchmarks (real weights cannot be fetched here),
and `EchoEngine`, an instant engine for tests of the pipeline rather than of a model.

`build_marian` trains two small sentencepiece models on text the caller gives, builds a
`MarianMTModel` with random weights and saves both with `save_pretrained`, so the result loads
through exactly the code users run (`resolve_model` + an engine).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from corpus.types import Hypothesis, System
from translate.engine.base import DecodeSettings, Engine
from translate.model import ModelRef

TINY = {"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 2,
        "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64}

# The shape of Helsinki-NLP/opus-mt-ru-en (vocab size comes from the vocabulary built here,
# padded up to the real 62518 when `vocab_size` is given).
OPUS_MT_RU_EN = {"d_model": 512, "encoder_layers": 6, "decoder_layers": 6,
                 "encoder_attention_heads": 8, "decoder_attention_heads": 8,
                 "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048,
                 "activation_function": "swish", "static_position_embeddings": True,
                 "scale_embedding": True, "share_encoder_decoder_embeddings": True}


def _train_spm(lines: Iterable[str], prefix: Path, vocab_size: int) -> None:
    import sentencepiece as spm

    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write("\n".join(lines))
    spm.SentencePieceTrainer.train(
        input=f.name, model_prefix=str(prefix), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, bos_id=-1, eos_id=-1, unk_id=0,
        minloglevel=2,
    )
    Path(f.name).unlink()


def build_marian(out: Path, source_lines: list[str], target_lines: list[str], *,
                 spm_vocab: int = 200, vocab_size: int | None = None, seed: int = 0,
                 num_beams: int = 4, **config: Any) -> Path:
    """Save a random-weight Marian model + tokenizer to `out` and return `out`."""
    import sentencepiece as spm
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    out.mkdir(parents=True, exist_ok=True)
    _train_spm(source_lines, out / "source", spm_vocab)
    _train_spm(target_lines, out / "target", spm_vocab)
    (out / "source.model").rename(out / "source.spm")
    (out / "target.model").rename(out / "target.spm")
    for name in ("source.vocab", "target.vocab"):
        (out / name).unlink()

    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for side in ("source", "target"):
        processor = spm.SentencePieceProcessor(model_file=str(out / f"{side}.spm"))
        for i in range(processor.get_piece_size()):
            vocab.setdefault(processor.id_to_piece(i), len(vocab))
    while vocab_size and len(vocab) < vocab_size - 1:
        vocab[f"<filler_{len(vocab)}>"] = len(vocab)
    pad_id = len(vocab)
    vocab["<pad>"] = pad_id
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "source_lang": "ru", "target_lang": "en", "model_max_length": 512,
        "tokenizer_class": "MarianTokenizer", "separate_vocabs": False,
    }), encoding="utf-8")

    settings = {**TINY, **config}
    model_config = MarianConfig(
        vocab_size=len(vocab), pad_token_id=pad_id, eos_token_id=0, decoder_start_token_id=pad_id,
        max_position_embeddings=512, forced_eos_token_id=0, **settings,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(model_config).eval()
    model.generation_config = GenerationConfig(
        num_beams=num_beams, max_length=512, pad_token_id=pad_id, eos_token_id=0,
        decoder_start_token_id=pad_id, forced_eos_token_id=0, bad_words_ids=[[pad_id]],
    )
    model.save_pretrained(out)
    return out


class EchoEngine(Engine):
    """An instant engine for tests of the pipeline, not of a model: the English is the Russian
    upper-cased. Counts the batches it is given."""

    backend = "echo"
    max_input_tokens = 512
    default_beam = 1
    supports_constraints = False

    def __init__(self) -> None:
        super().__init__(ModelRef("echo", Path("echo"), ""))
        self.batches = 0

    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        return [len(s.split()) + 1 for s in sentences]

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        self.batches += 1
        return [Hypothesis(s.upper()) for s in sentences]

    def system(self, settings: DecodeSettings, **more: object) -> System:
        return System("echo", "", "echo", {"beam": 1, **more})


def main() -> None:
    """`python -m translate.testing DIR`: a random-weight stand-in model for trying ruen offline
    (its English is gibberish; every other part of the tool behaves as with a real model)."""
    import sys

    from translate.segment import segment

    if len(sys.argv) != 2:
        sys.exit("usage: python -m translate.testing OUTPUT_DIR")
    ru = [s.ru for s in segment(_SAMPLE_RU)]
    build_marian(Path(sys.argv[1]), ru * 10, _SAMPLE_EN.split(". ") * 10)
    print(sys.argv[1])


_SAMPLE_RU = """Силы режима отступают под давлением повстанцев. Город полностью освобожден.
Мы продолжаем двигаться на юг. Представитель командования подтвердил освобождение города.
В четверг начались новые столкновения в провинции. Гражданское сопротивление укрепляет революцию."""
_SAMPLE_EN = ("Regime forces are retreating under rebel pressure. The city has been liberated. "
              "We continue to move south. A command spokesman confirmed the liberation. "
              "New clashes began in the province on Thursday. Civil resistance grows.")

if __name__ == "__main__":
    main()
