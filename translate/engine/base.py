"""The one interface the pipeline sees: sentences in, hypotheses out."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from corpus.types import Hypothesis, System
from translate.model import ModelRef


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

    def translate_constrained(self, sentence: str, targets: Sequence[str],
                              settings: DecodeSettings) -> Hypothesis:
        """Translate one sentence so that every string in `targets` appears in the output."""
        raise NotImplementedError(f"the {self.backend} backend has no constrained decoding")

    def settings_record(self, settings: DecodeSettings) -> dict[str, object]:
        """Decoding settings as stored in provenance (and compared by translation memory)."""
        return {"beam": settings.beam or self.default_beam,
                "length_ratio": settings.length_ratio, "length_slack": settings.length_slack,
                **settings.extra}

    def system(self, settings: DecodeSettings, **more: object) -> System:
        return System(model=self.ref.name, revision=self.ref.revision, backend=self.backend,
                      settings={**self.settings_record(settings), **more})
