"""The one interface the pipeline sees: sentences in, hypotheses out."""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from corpus.types import Hypothesis, System
from translate.errors import EngineError
from translate.model import ModelRef

DEVICE = re.compile(r"(cpu|cuda)(?::(\d+))?")


def parse_device(device: str) -> tuple[str, int]:
    """`cpu`, `cuda` or `cuda:N` (the N-th GPU, from 0) as (kind, index)."""
    found = DEVICE.fullmatch(device.strip().lower())
    if not found or (found[1] == "cpu" and found[2]):
        raise EngineError(f"--device {device}: choose cpu, cuda or cuda:N (the N-th GPU, "
                          "counted from 0).")
    return found[1], int(found[2] or 0)


@dataclass(frozen=True)
class DecodeSettings:
    """How to decode. `beam=None` takes the model's own generation config."""

    beam: int | None = None
    # Output cap: ratio * source tokens + slack, so a degenerate model cannot loop to 512 tokens.
    length_ratio: float = 2.0
    length_slack: int = 10
    max_batch_tokens: int = 4096
    max_batch_sentences: int = 64
    extra: dict[str, object] = field(default_factory=dict)

    def max_new_tokens(self, source_tokens: int, model_limit: int) -> int:
        return min(model_limit, math.ceil(self.length_ratio * source_tokens) + self.length_slack)


@dataclass(frozen=True)
class Constraint:
    """A phrase the output must contain, and where its source term is (`sentence[start:end]`;
    0, 0 when unknown), so that a backend can put it where the model translates the term."""

    target: str
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class ConstrainedRequest:
    """One sentence to decode again with its constraints, and its unconstrained output when the
    caller has it (a backend may start from it rather than decode it again)."""

    sentence: str
    constraints: tuple[Constraint, ...]
    free: Hypothesis | None = None


class Engine(ABC):
    """A loaded model behind one backend (transformers, CTranslate2, ...)."""

    backend: str = ""
    #: Whether `translate_constrained` forces glossary targets in decoding.
    supports_constraints: bool = False

    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref

    @property
    @abstractmethod
    def max_input_tokens(self) -> int:
        """Longest source (in tokens, EOS included) the model accepts."""

    @property
    @abstractmethod
    def default_beam(self) -> int:
        """The beam size in the model's generation config."""

    @abstractmethod
    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        """Source length of each sentence in model tokens (EOS included)."""

    @abstractmethod
    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        """Translate a batch of sentences, one hypothesis each, in the order given."""

    def translate_batches(self, batches: Iterable[Sequence[str]], settings: DecodeSettings
                          ) -> Iterator[list[Hypothesis]]:
        """`translate_batch` of each batch in turn; an engine that decodes in the background
        may start on the next batch while the caller handles this one."""
        for batch in batches:
            yield self.translate_batch(batch, settings)

    def translate_constrained_batch(self, requests: Sequence[ConstrainedRequest],
                                    settings: DecodeSettings) -> list[Hypothesis]:
        """Translate sentences so that each output contains every target its vocabulary can
        spell, all of them together (in batches under `settings`' budget), in the order given.
        `Hypothesis.score` is the length-normalised log-probability of the output, as for
        `translate_batch`."""
        raise NotImplementedError(f"the {self.backend} backend has no constrained decoding")

    def translate_constrained(self, sentence: str, targets: Sequence[str],
                              settings: DecodeSettings) -> Hypothesis:
        """One sentence whose output must contain every string in `targets`."""
        request = ConstrainedRequest(sentence, tuple(Constraint(t) for t in targets))
        return self.translate_constrained_batch([request], settings)[0]

    def settings_record(self, settings: DecodeSettings) -> dict[str, object]:
        """Decoding settings as stored in provenance (and compared by translation memory)."""
        return {"beam": settings.beam or self.default_beam,
                "length_ratio": settings.length_ratio, "length_slack": settings.length_slack,
                **settings.extra}

    def system(self, settings: DecodeSettings, **more: object) -> System:
        return System(model=self.ref.name, revision=self.ref.revision, backend=self.backend,
                      settings={**self.settings_record(settings), **more})
