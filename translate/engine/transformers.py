"""The transformers backend: MarianMTModel + MarianTokenizer, on CPU or CUDA."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from corpus.types import Hypothesis
from translate.engine import FIXED_OUTPUT_TOKENS
from translate.engine.base import ConstrainedRequest, DecodeSettings, Engine, parse_device
from translate.engine.memory import budget_mb, plan_chunks
from translate.errors import EngineError
from translate.model import ModelRef

# Decoding memory at the default `--batch-tokens` (translate.engine.memory): with the float32
# model and torch itself (~600 MB), `ruen translate --backend transformers` stays within 1.5 GB.
DECODE_MEMORY_MB = 600
# Positions whose logits `score` makes at once: 256 rows of 62518 floats are 64 MB.
SCORE_ROWS = 256


class TransformersEngine(Engine):
    backend = "transformers"
    supports_constraints = True

    def __init__(self, ref: ModelRef, *, device: str = "cpu", quantize: str | None = None,
                 threads: int | None = None) -> None:
        super().__init__(ref)
        import torch
        import transformers
        from transformers import MarianMTModel, MarianTokenizer

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        if threads:
            torch.set_num_threads(threads)
        kind, index = parse_device(device)
        if kind == "cuda" and not torch.cuda.is_available():
            raise EngineError("--device cuda asked for, but torch sees no CUDA GPU here.")
        if kind == "cuda" and index >= torch.cuda.device_count():
            raise EngineError(f"--device {device}: torch sees {torch.cuda.device_count()} "
                              f"CUDA GPU(s), numbered from 0.")
        self.torch = torch
        self.device = f"cuda:{index}" if kind == "cuda" else "cpu"
        self.quantize = quantize
        self.tokenizer = MarianTokenizer.from_pretrained(ref.path)
        dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
        if quantize and quantize not in (*dtypes, "int8"):
            raise EngineError(f"--quantize {quantize}: the transformers backend takes int8 (CPU), "
                              f"{', '.join(dtypes)}.")
        if quantize == "int8" and kind != "cpu":
            raise EngineError("--quantize int8 is for the CPU; on a GPU use float16.")
        default = torch.float16 if kind == "cuda" else torch.float32
        dtype = dtypes.get(quantize or "", default)
        model = MarianMTModel.from_pretrained(ref.path, dtype=dtype,
                                              attn_implementation="eager").eval()
        if quantize == "int8":
            with warnings.catch_warnings():  # torch deprecates this API (for torchao) loudly
                warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                               dtype=torch.qint8)
        self.model = model.to(self.device)

    @property
    def max_input_tokens(self) -> int:
        return int(self.model.config.max_position_embeddings)

    @property
    def default_beam(self) -> int:
        return int(self.model.generation_config.num_beams or 1)

    def settings_record(self, settings: DecodeSettings) -> dict[str, object]:
        record = super().settings_record(settings)
        if self.quantize:
            record["quantize"] = self.quantize
        return record

    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        if not sentences:
            return []
        return [len(ids) for ids in self.tokenizer(list(sentences))["input_ids"]]

    def encode(self, sentences: Sequence[str]) -> dict[str, object]:
        encoded = self.tokenizer(list(sentences), return_tensors="pt", padding=True)
        return {k: v.to(self.device) for k, v in encoded.items()}

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        """Beam search (`generate`) in groups cut to the memory budget (`--batch-tokens`); each
        output is scored afterwards (`score`), so no full-vocabulary scores are kept."""
        if not sentences:
            return []
        beam = settings.beam or self.default_beam
        lengths = self.count_tokens(sentences)
        hypotheses: list[Hypothesis] = [Hypothesis("")] * len(sentences)
        for chunk in self.chunks(lengths, beam, settings):
            for i, hypothesis in zip(chunk, self._generate([sentences[i] for i in chunk],
                                                           settings, beam), strict=True):
                hypotheses[i] = hypothesis
        return hypotheses

    def chunks(self, lengths: Sequence[int], beams: int | Sequence[int],
               settings: DecodeSettings) -> list[list[int]]:
        """Sentences (by source length) in groups whose beams fit the memory budget.
        `generate` keeps every sentence of a group until the last one ends, so outputs are
        counted at their cap."""
        return plan_chunks(lengths, beams, lambda longest: self._cap(longest, settings),
                           budget_mb(DECODE_MEMORY_MB, settings.max_batch_tokens))

    def _cap(self, source_tokens: int, settings: DecodeSettings) -> int:
        """Most tokens an output may have, its end token included."""
        if fixed := settings.extra.get(FIXED_OUTPUT_TOKENS):
            return int(fixed) + 1
        return settings.max_new_tokens(source_tokens, self.max_input_tokens)

    def _generate(self, sentences: Sequence[str], settings: DecodeSettings, beam: int
                  ) -> list[Hypothesis]:
        inputs = self.encode(sentences)
        longest = int(inputs["input_ids"].shape[1])
        lengths = {"max_new_tokens": settings.max_new_tokens(longest, self.max_input_tokens)}
        if fixed := settings.extra.get(FIXED_OUTPUT_TOKENS):
            # Benchmarks: exactly `fixed` tokens, then the end token (counted by generate).
            lengths = {"min_new_tokens": int(fixed) + 1, "max_new_tokens": int(fixed) + 1}
        with self.torch.inference_mode():
            out = self.model.generate(**inputs, num_beams=beam, num_return_sequences=1,
                                      max_length=None, **lengths)
        sequences = list(out)
        if not fixed:
            # generate() caps the whole batch by its longest source; cut each output to its own
            # sentence's cap (after the start token), so a translation never depends on its
            # batch neighbours.
            # With a forced end token, the last step of the cap is that end token.
            forced_eos = self.model.generation_config.forced_eos_token_id is not None
            own = inputs["attention_mask"].sum(dim=1).tolist()
            sequences = [
                seq[:1 + settings.max_new_tokens(int(n), self.max_input_tokens) - forced_eos]
                for seq, n in zip(out, own, strict=True)]
        outputs = [[int(t) for t in seq[1:]] for seq in sequences]
        texts = self.tokenizer.batch_decode(outputs, skip_special_tokens=True)
        scores = score(self.model, inputs, outputs)
        return [Hypothesis(text=t.strip(), score=s) for t, s in zip(texts, scores, strict=True)]

    def translate_constrained_batch(self, requests: Sequence[ConstrainedRequest],
                                    settings: DecodeSettings) -> list[Hypothesis]:
        """Our own forced-phrase beam search (translate.engine.constrained), the sentences
        together in groups cut to the memory budget."""
        from translate.engine.constrained import ConstrainedDecoder

        if getattr(self, "_constrained", None) is None:
            self._constrained = ConstrainedDecoder(self.model, self.tokenizer)
        decoder = self._constrained
        sentences = [r.sentence for r in requests]
        targets = [[c.target for c in r.constraints] for r in requests]
        lengths = self.count_tokens(sentences)
        beam = settings.beam or self.default_beam
        beams = [decoder.beam_for(t, beam) for t in targets]
        hypotheses: list[Hypothesis] = [Hypothesis("")] * len(requests)
        for chunk in self.chunks(lengths, beams, settings):
            outputs = decoder.translate_batch(
                [sentences[i] for i in chunk], [targets[i] for i in chunk], beam=beam,
                max_new_tokens=[self._cap(lengths[i], settings) for i in chunk])
            for i, hypothesis in zip(chunk, outputs, strict=True):
                hypotheses[i] = hypothesis
        return hypotheses


def score(model: Any, inputs: dict[str, Any], outputs: Sequence[Sequence[int]]) -> list[float]:
    """The length-normalised log-probability of each output (its tokens up to and including the
    end token, if it has one) given its source: one teacher-forced pass, the vocabulary
    projection made a few positions at a time, so no full-vocabulary tensor of the whole batch
    is ever held."""
    import torch

    config = model.config
    eos, pad = int(config.eos_token_id), int(config.pad_token_id)
    kept = [list(o[:o.index(eos) + 1]) if eos in o else list(o) for o in outputs]
    longest = max(1, max(map(len, kept), default=1))
    device = inputs["input_ids"].device
    labels = torch.full((len(kept), longest), pad, dtype=torch.long, device=device)
    for row, tokens in enumerate(kept):
        labels[row, :len(tokens)] = torch.tensor(tokens, dtype=torch.long, device=device)
    start = torch.full((len(kept), 1), int(config.decoder_start_token_id), dtype=torch.long,
                       device=device)
    with torch.inference_mode():
        hidden = model.model(input_ids=inputs["input_ids"],
                             attention_mask=inputs["attention_mask"],
                             decoder_input_ids=torch.cat([start, labels[:, :-1]], dim=1),
                             use_cache=False).last_hidden_state
        flat, wanted = hidden.reshape(-1, hidden.shape[-1]), labels.reshape(-1)
        logp = torch.empty(flat.shape[0], device=device)
        step = max(1, SCORE_ROWS)
        for at in range(0, flat.shape[0], step):
            logits = model.lm_head(flat[at:at + step]) + model.final_logits_bias
            logp[at:at + step] = torch.log_softmax(logits.float(), dim=-1).gather(
                1, wanted[at:at + step, None])[:, 0]
        logp = logp.reshape(labels.shape)
    totals = [float(logp[row, :len(tokens)].sum()) for row, tokens in enumerate(kept)]
    return [total / max(1, len(tokens)) for total, tokens in zip(totals, kept, strict=True)]
