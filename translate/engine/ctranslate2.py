"""The CTranslate2 backend: the fast path on CPU (int8) and CUDA (float16).

The Marian checkpoint is converted once and cached (`translate.engine.cache`); loading it needs
neither torch nor transformers, so this engine tokenizes with sentencepiece directly, exactly as
`MarianTokenizer` does (same pieces, same vocabulary, same detokenization).

CTranslate2 has no constrained beam search. Sentences that must contain glossary targets are
decoded by the transformers backend of the same model, loaded on first need; the provenance of
every translation made by this engine says so (`constrained: transformers`) and the first such
sentence logs a warning.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.types import Hypothesis
from translate.engine import FIXED_OUTPUT_TOKENS
from translate.engine.base import DecodeSettings, Engine
from translate.engine.cache import ensure_converted
from translate.errors import EngineError
from translate.model import ModelRef

log = logging.getLogger(__name__)

# How many sentences decode together. Every hypothesis (beam * sentences of them) holds its
# logits and attention caches, about 1.2 MB + 25 kB per source and output token for
# opus-mt-ru-en's shape (measured: 64 hypotheses of 24 + 40 tokens peak at +170 MB), so batches
# are cut to keep decoding within DECODE_MEMORY_MB at the default `--batch-tokens` (and in
# proportion to it otherwise), so that `ruen translate` stays within 400 MB in all: the model,
# Python and the glossary take ~190 MB. Beyond about 128 hypotheses CPU time per sentence stops
# improving, so that is the ceiling.
#
# On CPU, two translations run side by side (CTranslate2's `inter_threads`), each on half the
# threads, and share the memory budget: small matrices keep one thread busier than they keep
# two. Raw CTranslate2, beam 4, 2 threads (bench/translate.py's model and document): one
# translation of 32-sentence batches, 20.5 sentences/s at 554 MB; two of 6-sentence batches,
# 24.1 sentences/s at 286 MB.
HYPOTHESES_PER_BATCH = 128
DECODE_MEMORY_MB = 150
DEFAULT_BATCH_TOKENS = 4096  # DecodeSettings.max_batch_tokens, the default `--batch-tokens`
HYPOTHESIS_MB, TOKEN_MB = 1.2, 0.025
SIDE_BY_SIDE = 2  # translations at once on CPU (see above)

EOS = "</s>"
UNK = "<unk>"
PAD = "<pad>"


def default_threads() -> int:
    """The CPUs this process may run on (cgroup/affinity aware where the OS tells us)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


# Every precision a backend may take (`--quantize`); each backend says which of them it supports
# on the device at hand (transformers: int8 on the CPU, the float types).
COMPUTE_TYPES = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float32",
                 "float16", "bfloat16")


def default_compute_type(device: str) -> str:
    return "float16" if device.startswith("cuda") else "int8"


class MarianPieces:
    """`MarianTokenizer` without transformers: sentencepiece pieces in, pieces out."""

    def __init__(self, path: Path) -> None:
        import sentencepiece as spm

        self.source = spm.SentencePieceProcessor(model_file=str(path / "source.spm"))
        self.target = spm.SentencePieceProcessor(model_file=str(path / "target.spm"))
        self.vocab = frozenset(json.loads((path / "vocab.json").read_text(encoding="utf-8")))
        self.special = frozenset({EOS, UNK, PAD})

    def encode(self, sentences: Sequence[str]) -> list[list[str]]:
        """Source pieces of each sentence, EOS appended; pieces outside the vocabulary are UNK."""
        encoded = self.source.encode([_without_language_code(s)[1] for s in sentences],
                                     out_type=str)
        codes = [_without_language_code(s)[0] for s in sentences]
        return [[p if p in self.vocab else UNK for p in code + pieces] + [EOS]
                for code, pieces in zip(codes, encoded, strict=True)]

    def decode(self, pieces: Sequence[str]) -> str:
        kept = [p for p in pieces if p not in self.special]
        return self.target.decode_pieces(kept).replace("▁", " ").strip()

    def target_pieces(self, text: str) -> list[str]:
        return list(self.target.encode(text, out_type=str))


def _without_language_code(text: str) -> tuple[list[str], str]:
    """Multilingual Marian models take a `>>xx<<` target code in front, kept as one piece."""
    if text.startswith(">>") and (end := text.find("<<")) != -1:
        return [text[:end + 2]], text[end + 2:]
    return [], text


@dataclass
class _Batch:
    """A batch on its way through CTranslate2: source pieces, chunks (indices into the batch,
    decoded together) and the pending results of the chunks sent so far."""

    source: list[list[str]]
    beam: int
    settings: DecodeSettings
    chunks: list[list[int]]
    pending: list[list[Any]] = field(default_factory=list)  # AsyncTranslationResult per sentence


class CTranslate2Engine(Engine):
    backend = "ctranslate2"
    # Through the transformers backend of the same model (see the module docstring).
    supports_constraints = True

    def __init__(self, ref: ModelRef, *, device: str = "cpu", quantize: str | None = None,
                 threads: int | None = None) -> None:
        super().__init__(ref)
        try:
            import ctranslate2
        except ImportError:
            raise EngineError("--backend ctranslate2 needs CTranslate2: "
                              "pip install 'ruen[fast]'.") from None
        kind = device.split(":")[0]
        if kind not in ("cpu", "cuda"):
            raise EngineError(f"--device {device}: choose cpu or cuda.")
        if kind == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise EngineError("--device cuda asked for, but CTranslate2 sees no CUDA GPU here.")
        compute_type = quantize or default_compute_type(kind)
        supported = ctranslate2.get_supported_compute_types(kind)
        if compute_type not in supported:
            raise EngineError(f"--quantize {compute_type}: CTranslate2 on this {kind} supports "
                              f"{', '.join(sorted(supported))}.")
        self.device = device
        self.compute_type = compute_type
        self.threads = threads or default_threads()
        self.converted = ensure_converted(ref, compute_type)
        self.workers = SIDE_BY_SIDE if kind == "cpu" and self.threads >= SIDE_BY_SIDE else 1
        self._options: dict[str, Any] = {
            "device": kind, "device_index": int(device.split(":")[1]) if ":" in device else 0,
            "compute_type": compute_type, "inter_threads": self.workers,
            "intra_threads": self.threads // self.workers if kind == "cpu" else 0}
        self._translator: Any = None
        self.pieces = MarianPieces(ref.path)
        config = _read_json(ref.path / "config.json")
        generation = _read_json(ref.path / "generation_config.json")
        self._max_input = int(config.get("max_position_embeddings", 512))
        self._beam = int(generation.get("num_beams") or config.get("num_beams") or 1)
        self._fallback: Engine | None = None

    @property
    def translator(self) -> Any:
        """The loaded model, loaded on first use: a document that translation memory covers
        entirely is never decoded, and then loading the weights would be wasted time."""
        if self._translator is None:
            import ctranslate2

            _fewer_malloc_arenas()
            self._translator = ctranslate2.Translator(str(self.converted.path), **self._options)
        return self._translator

    @property
    def max_input_tokens(self) -> int:
        return self._max_input

    @property
    def default_beam(self) -> int:
        return self._beam

    def settings_record(self, settings: DecodeSettings) -> dict[str, object]:
        return {**super().settings_record(settings), "quantize": self.compute_type,
                "constrained": "transformers"}

    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        return [len(p) for p in self.pieces.encode(sentences)] if sentences else []

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        batch = self._plan(sentences, settings)
        self._send(batch)
        return self._collect(batch)

    def translate_batches(self, batches: Iterable[Sequence[str]], settings: DecodeSettings
                          ) -> Iterator[list[Hypothesis]]:
        """Before a batch is waited for, the first chunks of the next one are queued behind
        it, so that no worker idles while the other finishes the batch's last chunk, nor while
        the pipeline checks and stores. Only a worker's worth is queued ahead: chunks cannot
        be cancelled, and the process waits for queued ones when it stops (after Ctrl-C)."""
        previous: _Batch | None = None
        for sentences in batches:
            batch = self._plan(sentences, settings)
            if previous is not None:
                self._send(previous)
                self._send(batch, self.workers)
                yield self._collect(previous)
            previous = batch
        if previous is not None:
            self._send(previous)
            yield self._collect(previous)

    def _plan(self, sentences: Sequence[str], settings: DecodeSettings) -> _Batch:
        """Cut a batch into chunks that fit the memory budget (shared by the workers)."""
        source = self.pieces.encode(sentences) if sentences else []
        beam = settings.beam or self.default_beam
        longest = self._lengths(max(map(len, source), default=1), settings)
        budget = DECODE_MEMORY_MB * settings.max_batch_tokens / DEFAULT_BATCH_TOKENS
        return _Batch(source, beam, settings,
                      self._chunks(source, beam, longest, budget / self.workers))

    def _send(self, batch: _Batch, count: int | None = None) -> None:
        """Queue the batch's next `count` chunks (all by default). A chunk decodes up to its
        longest sentence's cap."""
        sent = len(batch.pending)
        for chunk in batch.chunks[sent:None if count is None else sent + count]:
            batch.pending.append(self.translator.translate_batch(
                [batch.source[i] for i in chunk], beam_size=batch.beam, num_hypotheses=1,
                return_scores=True, asynchronous=True,
                **self._lengths(len(batch.source[chunk[0]]), batch.settings)))

    def _collect(self, batch: _Batch) -> list[Hypothesis]:
        """Wait for a sent batch. Each output is cut to its own sentence's cap, so that a
        translation never depends on its batch neighbours."""
        hypotheses: list[Hypothesis | None] = [None] * len(batch.source)
        for chunk, results in zip(batch.chunks, batch.pending, strict=True):
            for i, pending in zip(chunk, results, strict=True):
                result = pending.result()
                cap = self._lengths(len(batch.source[i]), batch.settings)["max_decoding_length"]
                hypotheses[i] = Hypothesis(text=self.pieces.decode(result.hypotheses[0][:cap]),
                                           score=float(result.scores[0]))
        return [h for h in hypotheses if h is not None]

    @staticmethod
    def _chunks(source: list[list[str]], beam: int, lengths: dict[str, int],
                budget_mb: float = DECODE_MEMORY_MB) -> list[list[int]]:
        """Indices of `source`, longest first, in groups that fit the memory budget."""
        order = sorted(range(len(source)), key=lambda i: -len(source[i]))
        most = max(1, HYPOTHESES_PER_BATCH // beam)
        chunks: list[list[int]] = []
        for i in order:
            if chunks and len(chunks[-1]) < most:
                longest = len(source[chunks[-1][0]])
                # Outputs are usually ~1.3x the source: CTranslate2 drops finished sentences.
                out = lengths.get("min_decoding_length") or min(
                    lengths["max_decoding_length"], round(1.3 * longest) + 5)
                per_sentence = beam * (HYPOTHESIS_MB + TOKEN_MB * (longest + out))
                if per_sentence * (len(chunks[-1]) + 1) <= budget_mb:
                    chunks[-1].append(i)
                    continue
            chunks.append([i])
        return chunks

    def _lengths(self, longest_source: int, settings: DecodeSettings) -> dict[str, int]:
        """Decoding length limits equal to the transformers backend's: its `max_new_tokens`
        counts the end token, CTranslate2's `max_decoding_length` does not."""
        fixed = settings.extra.get(FIXED_OUTPUT_TOKENS)
        if fixed:
            return {"min_decoding_length": int(fixed), "max_decoding_length": int(fixed)}
        cap = settings.max_new_tokens(longest_source, self.max_input_tokens)
        return {"max_decoding_length": max(1, cap - 1)}

    def translate_constrained(self, sentence: str, targets: Sequence[str],
                              settings: DecodeSettings) -> Hypothesis:
        return self.fallback().translate_constrained(sentence, targets, settings)

    def fallback(self) -> Engine:
        """The transformers engine of the same model, for what CTranslate2 cannot do."""
        if self._fallback is None:
            log.warning("CTranslate2 has no constrained decoding: sentences that need glossary "
                        "terms forced are decoded by the transformers backend (slower).")
            from translate.engine.transformers import TransformersEngine

            device = "cuda" if self.device.startswith("cuda") else "cpu"
            quantize = "int8" if device == "cpu" and self.compute_type.startswith("int8") else None
            self._fallback = TransformersEngine(self.ref, device=device, quantize=quantize,
                                                threads=self.threads)
        return self._fallback


def _fewer_malloc_arenas() -> None:
    """glibc gives each decoding thread a malloc arena of its own, and the buffers freed in one
    stay mapped in it: with one arena, peak memory while decoding is 15-35 MB lower (measured,
    no slower). Process-wide, like MALLOC_ARENA_MAX=1; nothing happens off glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _read_json(path: Path) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
