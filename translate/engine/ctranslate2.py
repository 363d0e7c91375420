"""The CTranslate2 backend: the fast path on CPU (int8) and CUDA (float16).

The Marian checkpoint is converted once and cached (`translate.engine.cache`); loading it needs
neither torch nor transformers, so this engine tokenizes with sentencepiece directly, exactly as
`MarianTokenizer` does (same pieces, same vocabulary, same detokenization).

CTranslate2 has no constrained beam search, so glossary targets are placed with what it has
(`translate.engine.placement`): every output comes with its attention, a target replaces the
words where the model translated its source term, the model continues from that forced prefix
(`target_prefix`), and `score_batch` scores the result. The sentences that need it are decoded
together, in the same memory-bounded chunks as the rest; torch is never imported.
"""

from __future__ import annotations

import json
import logging
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpus.types import Hypothesis
from translate.engine import FIXED_OUTPUT_TOKENS, placement
from translate.engine.base import ConstrainedRequest, DecodeSettings, Engine, parse_device
from translate.engine.cache import ensure_converted
from translate.engine.memory import budget_mb, plan_chunks
from translate.errors import EngineError
from translate.model import ModelRef

log = logging.getLogger(__name__)

# How many sentences decode together (translate.engine.memory): batches are cut to keep
# decoding within DECODE_MEMORY_MB at the default `--batch-tokens` (and in proportion to it
# otherwise), so that `ruen translate` stays within 400 MB in all: the model, Python and the
# glossary take ~190 MB.
#
# On CPU, two translations run side by side (CTranslate2's `inter_threads`), each on half the
# threads, and share the memory budget: small matrices keep one thread busier than they keep
# two. Raw CTranslate2, beam 4, 2 threads (bench/translate.py's model and document): one
# translation of 32-sentence batches, 20.5 sentences/s at 554 MB; two of 6-sentence batches,
# 24.1 sentences/s at 286 MB.
DECODE_MEMORY_MB = 150
SIDE_BY_SIDE = 2  # translations at once on CPU (see above)
# `score_batch` makes the logits of all positions of a batch at once; one sentence at a time
# keeps that within the memory decoding already uses (measured: batches of 256 tokens raised
# the peak by 185 MB, of 64 tokens by 58 MB, of one sentence by nothing).
SCORE_BATCH_SENTENCES = 1

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

    def spell(self, text: str) -> tuple[str, ...] | None:
        """The target pieces of `text`, or None when the vocabulary cannot spell it."""
        pieces = tuple(self.target_pieces(text))
        if not pieces or any(p not in self.vocab for p in pieces) or self.decode(pieces) != \
                text.strip():
            return None
        return pieces

    def source_span(self, sentence: str, start: int, end: int) -> tuple[int, int]:
        """The source pieces of `sentence[start:end]` (as `encode` cuts the sentence)."""
        if end <= start:
            return 0, 0
        code, text = _without_language_code(sentence)
        skip = len(sentence) - len(text)
        first = len(code) + len(self.source.encode(text[:max(0, start - skip)]))
        stop = len(code) + len(self.source.encode(text[:max(0, end - skip)]))
        return first, max(stop, first + 1)


def _without_language_code(text: str) -> tuple[list[str], str]:
    """Multilingual Marian models take a `>>xx<<` target code in front, kept as one piece."""
    if text.startswith(">>") and (end := text.find("<<")) != -1:
        return [text[:end + 2]], text[end + 2:]
    return [], text


@dataclass(frozen=True)
class AlignedHypothesis(Hypothesis):
    """A hypothesis with its output pieces and, per piece, its attention over the source
    pieces: what glossary placement starts from, so an enforced sentence is not decoded twice."""

    pieces: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # 4-byte floats: kept for every sentence of a batch until the glossary has seen it.
    attention: tuple[array[float], ...] = field(default=(), compare=False, repr=False)


@dataclass
class _Batch:
    """A batch on its way through CTranslate2: source pieces, the forced output prefix of each
    (constrained decoding), chunks (indices into the batch, decoded together) and the pending
    results of the chunks sent so far."""

    source: list[list[str]]
    beam: int
    settings: DecodeSettings
    chunks: list[list[int]]
    prefixes: list[list[str]] | None = None
    pending: list[list[Any]] = field(default_factory=list)  # AsyncTranslationResult per sentence


class CTranslate2Engine(Engine):
    backend = "ctranslate2"
    # By editing the model's output where it rendered a term (see the module docstring).
    supports_constraints = True

    def __init__(self, ref: ModelRef, *, device: str = "cpu", quantize: str | None = None,
                 threads: int | None = None) -> None:
        super().__init__(ref)
        try:
            import ctranslate2
        except ImportError:
            raise EngineError("--backend ctranslate2 needs CTranslate2: "
                              "pip install 'ruen[fast]'.") from None
        kind, index = parse_device(device)
        if kind == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise EngineError("--device cuda asked for, but CTranslate2 sees no CUDA GPU here.")
        if kind == "cuda" and index >= ctranslate2.get_cuda_device_count():
            raise EngineError(f"--device {device}: CTranslate2 sees "
                              f"{ctranslate2.get_cuda_device_count()} CUDA GPU(s), numbered "
                              "from 0.")
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
            "device": kind, "device_index": index,
            "compute_type": compute_type, "inter_threads": self.workers,
            "intra_threads": self.threads // self.workers if kind == "cpu" else 0}
        self._translator: Any = None
        self.pieces = MarianPieces(ref.path)
        config = _read_json(ref.path / "config.json")
        generation = _read_json(ref.path / "generation_config.json")
        self._max_input = int(config.get("max_position_embeddings", 512))
        self._beam = int(generation.get("num_beams") or config.get("num_beams") or 1)

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
                "constrained": "placement"}

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

    def _plan(self, sentences: Sequence[str], settings: DecodeSettings,
              prefixes: list[list[str]] | None = None) -> _Batch:
        """Cut a batch into chunks that fit the memory budget (shared by the workers)."""
        source = self.pieces.encode(sentences) if sentences else []
        beam = settings.beam or self.default_beam
        longest = self._lengths(max(map(len, source), default=1), settings,
                                max(map(len, prefixes or []), default=0))
        budget = budget_mb(DECODE_MEMORY_MB, settings.max_batch_tokens)
        return _Batch(source, beam, settings,
                      self._chunks(source, beam, longest, budget / self.workers), prefixes)

    def _send(self, batch: _Batch, count: int | None = None) -> None:
        """Queue the batch's next `count` chunks (all by default). A chunk decodes up to its
        longest sentence's cap."""
        sent = len(batch.pending)
        for chunk in batch.chunks[sent:None if count is None else sent + count]:
            forced = {}
            if batch.prefixes is not None:
                forced = {"target_prefix": [batch.prefixes[i] for i in chunk]}
            batch.pending.append(self.translator.translate_batch(
                [batch.source[i] for i in chunk], beam_size=batch.beam, num_hypotheses=1,
                return_scores=True, return_attention=True, asynchronous=True, **forced,
                **self._lengths(len(batch.source[chunk[0]]), batch.settings,
                                max((len(v) for v in forced.get("target_prefix", [])),
                                    default=0))))

    def _collect(self, batch: _Batch) -> list[AlignedHypothesis]:
        """Wait for a sent batch. Each output is cut to its own sentence's cap, so that a
        translation never depends on its batch neighbours."""
        hypotheses: list[AlignedHypothesis | None] = [None] * len(batch.source)
        for chunk, results in zip(batch.chunks, batch.pending, strict=True):
            for i, pending in zip(chunk, results, strict=True):
                result = pending.result()
                forced = len(batch.prefixes[i]) if batch.prefixes is not None else 0
                cap = self._lengths(len(batch.source[i]), batch.settings,
                                    forced)["max_decoding_length"]
                pieces = tuple(result.hypotheses[0][:cap])
                hypotheses[i] = AlignedHypothesis(
                    text=self.pieces.decode(pieces), score=float(result.scores[0]),
                    pieces=pieces,
                    attention=tuple(array("f", row) for row in result.attention[0][:cap]))
        return [h for h in hypotheses if h is not None]

    @staticmethod
    def _chunks(source: list[list[str]], beam: int, lengths: dict[str, int],
                budget_mb: float = DECODE_MEMORY_MB) -> list[list[int]]:
        """Indices of `source`, longest first, in groups that fit the memory budget."""
        def output_tokens(longest: int) -> int:
            # Outputs are usually ~1.3x the source: CTranslate2 drops finished sentences.
            return lengths.get("min_decoding_length") or min(
                lengths["max_decoding_length"], round(1.3 * longest) + 5)

        return plan_chunks([len(s) for s in source], beam, output_tokens, budget_mb)

    def _lengths(self, longest_source: int, settings: DecodeSettings, forced: int = 0
                 ) -> dict[str, int]:
        """Decoding length limits equal to the transformers backend's: its `max_new_tokens`
        counts the end token, CTranslate2's `max_decoding_length` does not. A forced prefix of
        `forced` pieces always fits, with room for the model to end the sentence."""
        fixed = settings.extra.get(FIXED_OUTPUT_TOKENS)
        if fixed:
            cap = max(int(fixed), forced + 1)
            return {"min_decoding_length": cap, "max_decoding_length": cap}
        cap = settings.max_new_tokens(longest_source, self.max_input_tokens)
        return {"max_decoding_length": max(1, cap - 1, forced + 2)}

    # ------------------------------------------------------------ glossary targets

    def translate_constrained_batch(self, requests: Sequence[ConstrainedRequest],
                                    settings: DecodeSettings) -> list[Hypothesis]:
        """Place each target where the model rendered its source term, let the model go on
        from there, all sentences at once (see `translate.engine.placement`)."""
        if not requests:
            return []
        sentences = [r.sentence for r in requests]
        # Outputs decoded by this engine have their attention; others are decoded again.
        unaligned = [i for i, r in enumerate(requests) if not isinstance(r.free, AlignedHypothesis)]
        again = dict(zip(unaligned, self.translate_batch([sentences[i] for i in unaligned],
                                                         settings), strict=True))
        free = [again.get(i) or r.free for i, r in enumerate(requests)]
        prefixes, plans = [], []
        for request, hypothesis in zip(requests, free, strict=True):
            targets = [t for c in request.constraints
                       if (t := self._target(request.sentence, c.target, c.start, c.end))]
            placements = placement.place(hypothesis.pieces, hypothesis.attention, targets)
            prefixes.append(placement.prefix(hypothesis.pieces, targets, placements))
            plans.append((hypothesis, len(prefixes[-1])))
        batch = self._plan(sentences, settings, prefixes)
        self._send(batch)
        outputs = []
        for (hypothesis, forced), decoded in zip(plans, self._collect(batch), strict=True):
            if not forced:  # nothing the vocabulary can spell: the model's own output stands
                outputs.append(hypothesis)
                continue
            outputs.append(replace(decoded, pieces=tuple(
                placement.unglue(decoded.pieces, forced))))
        return self._rescored(batch.source, outputs)

    def _target(self, sentence: str, target: str, start: int, end: int
                ) -> placement.Target | None:
        forms = [target]
        if target[:1].islower():
            forms.append(target[0].upper() + target[1:])
        spelled = [self.pieces.spell(form) for form in forms]
        if spelled[0] is None:
            return None
        return placement.Target(tuple(p for p in spelled if p),
                                self.pieces.source_span(sentence, start, end))

    def _rescored(self, source: list[list[str]], outputs: list[AlignedHypothesis]
                  ) -> list[Hypothesis]:
        """Each output's text and length-normalised log-probability (end token included) as
        `score_batch` computes it: a forced prefix is scored too, unlike in `translate_batch`."""
        scored = self.translator.score_batch(source, [list(h.pieces) for h in outputs],
                                             max_batch_size=SCORE_BATCH_SENTENCES)
        return [Hypothesis(self.pieces.decode(h.pieces),
                           sum(s.log_probs) / max(1, len(s.log_probs)))
                for h, s in zip(outputs, scored, strict=True)]


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
