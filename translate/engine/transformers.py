"""The transformers backend: MarianMTModel + MarianTokenizer, on CPU or CUDA."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from corpus.types import Hypothesis
from translate.engine import FIXED_OUTPUT_TOKENS
from translate.engine.base import DecodeSettings, Engine
from translate.errors import EngineError
from translate.model import ModelRef


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
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineError("--device cuda asked for, but torch sees no CUDA GPU here.")
        self.torch = torch
        self.device = device
        self.quantize = quantize
        self.tokenizer = MarianTokenizer.from_pretrained(ref.path)
        dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
        if quantize and quantize not in (*dtypes, "int8"):
            raise EngineError(f"--quantize {quantize}: the transformers backend takes int8 (CPU), "
                              f"{', '.join(dtypes)}.")
        if quantize == "int8" and device != "cpu":
            raise EngineError("--quantize int8 is for the CPU; on a GPU use float16.")
        default = torch.float16 if device.startswith("cuda") else torch.float32
        dtype = dtypes.get(quantize or "", default)
        model = MarianMTModel.from_pretrained(ref.path, dtype=dtype,
                                              attn_implementation="eager").eval()
        if quantize == "int8":
            with warnings.catch_warnings():  # torch deprecates this API (for torchao) loudly
                warnings.simplefilter("ignore", (DeprecationWarning, UserWarning))
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                               dtype=torch.qint8)
        self.model = model.to(device)

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
        if not sentences:
            return []
        inputs = self.encode(sentences)
        beam = settings.beam or self.default_beam
        longest = int(inputs["input_ids"].shape[1])
        lengths = {"max_new_tokens": settings.max_new_tokens(longest, self.max_input_tokens)}
        if fixed := settings.extra.get(FIXED_OUTPUT_TOKENS):
            # Benchmarks: exactly `fixed` tokens, then the end token (counted by generate).
            lengths = {"min_new_tokens": int(fixed) + 1, "max_new_tokens": int(fixed) + 1}
        with self.torch.inference_mode():
            out = self.model.generate(
                **inputs, num_beams=beam, num_return_sequences=1, max_length=None, **lengths,
                return_dict_in_generate=True, output_scores=True,
            )
        sequences = out.sequences
        if not fixed:
            # generate() caps the whole batch by its longest source; cut each output to its own
            # sentence's cap (after the start token), so a translation never depends on its
            # batch neighbours.
            # With a forced end token, the last step of the cap is that end token.
            forced_eos = self.model.generation_config.forced_eos_token_id is not None
            own = inputs["attention_mask"].sum(dim=1).tolist()
            sequences = [
                seq[:1 + settings.max_new_tokens(int(n), self.max_input_tokens) - forced_eos]
                for seq, n in zip(out.sequences, own, strict=True)]
        texts = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        scores = self._scores(out, beam)
        return [Hypothesis(text=t.strip(), score=s) for t, s in zip(texts, scores, strict=True)]

    def translate_constrained(self, sentence: str, targets: Sequence[str],
                              settings: DecodeSettings) -> Hypothesis:
        """Our own forced-phrase beam search (translate.engine.constrained)."""
        from translate.engine.constrained import ConstrainedDecoder

        if getattr(self, "_constrained", None) is None:
            self._constrained = ConstrainedDecoder(self.model, self.tokenizer)
        length = self.count_tokens([sentence])[0]
        return self._constrained.translate(
            sentence, targets, beam=settings.beam or self.default_beam,
            max_new_tokens=settings.max_new_tokens(length, self.max_input_tokens))

    def _scores(self, out: object, beam: int) -> list[float]:
        """Length-normalised log-probability of each output."""
        if beam > 1 and getattr(out, "sequences_scores", None) is not None:
            return [float(s) for s in out.sequences_scores]
        steps = self.model.compute_transition_scores(out.sequences, out.scores,
                                                     normalize_logits=True)
        finite = self.torch.where(self.torch.isfinite(steps), steps, 0.0)
        lengths = self.torch.isfinite(steps).sum(dim=1).clamp(min=1)
        return [float(s) for s in finite.sum(dim=1) / lengths]
