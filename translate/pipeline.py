"""The translation flow: segment, reuse the archive, decode in batches, check, store."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from corpus.encoding import CYRILLIC
from corpus.store import Archive, MemoryHit
from corpus.text import normalize_source
from corpus.types import (
    Alternative,
    Document,
    Flag,
    Hypothesis,
    Segment,
    SentencePair,
    System,
    TermStatus,
)
from translate.batching import plan_batches, split_long
from translate.engine.base import DecodeSettings, Engine
from translate.segment import SEGMENTER, segment

URL = re.compile(r"(?:https?://|www\.)\S+")
# Below this share of Cyrillic among its letters a sentence is translated but flagged.
MOSTLY_RUSSIAN = 0.5


class Interrupted(KeyboardInterrupt):
    """Raised between batches once `Pipeline.should_stop` says so (Ctrl-C): the current
    document is not stored, the ones finished before are."""

Check = Callable[[str, str], Iterable[Flag]]
"""A reference-free QA check: (Russian, English) -> flags. Handed in by the CLI (eval.qa)."""


@dataclass(frozen=True)
class Enforced:
    """A sentence's final English after the glossary: its terms' statuses, the score of the
    English kept (length-normalised log-probability) and what else the model said."""

    en: str
    terms: tuple[TermStatus, ...] = ()
    score: float = 0.0
    alternatives: tuple[Alternative, ...] = ()


class TermPolicy(Protocol):
    """What the pipeline needs of a glossary (implemented by `translate.glossary`)."""

    version: str

    def enforce(self, sources: Sequence[str], hypotheses: Sequence[Hypothesis], engine: Engine,
                settings: DecodeSettings) -> list[Enforced]:
        """Final English, term statuses and alternatives per sentence; may re-decode the
        sentences that miss terms."""
        ...

    def check(self, source: str, english: str) -> tuple[TermStatus, ...]:
        """Term statuses of an existing translation (no decoding)."""
        ...


@dataclass
class DocumentResult:
    document: Document
    doc_id: int | None
    pairs: list[SentencePair]
    reused: int = 0  # sentences taken from translation memory


@dataclass(frozen=True)
class DocumentPlan:
    """A document's sentences before decoding: the positions already decided (copies and
    memory) and the positions left to the model, in order (`sources` are their Russian)."""

    document: Document
    segments: Sequence[Segment]
    decided: dict[int, SentencePair]
    todo: list[int]

    @property
    def sources(self) -> list[str]:
        return [self.segments[i].ru for i in self.todo]


@dataclass
class Pipeline:
    engine: Engine
    settings: DecodeSettings = field(default_factory=DecodeSettings)
    archive: Archive | None = None
    glossary: TermPolicy | None = None
    checks: Sequence[Check] = ()
    use_memory: bool = True
    on_progress: Callable[[int], None] | None = None  # called with sentences just finished
    should_stop: Callable[[], bool] = lambda: False  # asked after every batch (Ctrl-C)
    # The system the translations are recorded under, when the engine that decodes them is not
    # `engine` (a Ray run on GPUs: the driver holds a CPU engine and never decodes).
    recorded_system: System | None = None

    @property
    def system(self) -> System:
        if self.recorded_system is not None:
            return self.recorded_system
        return self.engine.system(
            self.settings, segmenter=SEGMENTER,
            glossary=self.glossary.version if self.glossary else "none",
        )

    def translate_document(self, document: Document,
                           segments: Sequence[Segment] | None = None) -> DocumentResult:
        """Translate and store one document (`segments`: its sentences, if already split):
        `plan`, `enforced` for the sentences left to the model, `finish`. A Ray run
        (`translate.cluster`) calls the same three stages, the middle one on an actor."""
        self._stop_if_asked()
        plan = self.plan(document, segment(document.text) if segments is None else segments)
        if plan.decided and self.on_progress:
            self.on_progress(len(plan.decided))
        return self.finish(plan, self.decoded(plan.segments, plan.todo,
                                              self.enforced(plan.sources)))

    def plan(self, document: Document, segments: Sequence[Segment],
             pending: Collection[str] = ()) -> DocumentPlan:
        """What is decided without the model: sentences with no Cyrillic are copied, the ones
        translation memory has are reused; the rest is the model's (`todo`). A sentence whose
        normalised source is in `pending` (being translated for an earlier document of the same
        run) is neither: memory will have it once that document is stored."""
        sources = [s.ru for s in segments]
        system = self.system
        memory: dict[str, MemoryHit] = {}
        if self.archive is not None and self.use_memory:
            memory = self.archive.translation_memory(sources, system)
        decided: dict[int, SentencePair] = {}  # position: its translation
        todo: list[int] = []  # positions the model must translate
        for i, s in enumerate(segments):
            if not CYRILLIC.search(s.ru):
                # English, Arabic, numbers, URLs: the model would only garble them; the reader
                # gets them as they are (flagged in `_flags` when they have letters).
                decided[i] = self._pair(s, s.ru, origin="copy")
            elif (hit := memory.get(key := normalize_source(s.ru))) is not None:
                terms = self.glossary.check(s.ru, hit.en) if self.glossary else ()
                decided[i] = self._pair(  # a reused post-edit stays a post-edit
                    s, hit.en, terms, origin="tm", kind=hit.kind, source_id=hit.translation_id,
                    system=system.signature if hit.kind == "mt" else "")
            elif key not in pending or not self.use_memory or self.archive is None:
                todo.append(i)
        return DocumentPlan(document, segments, decided, todo)

    def decoded(self, segments: Sequence[Segment], positions: Sequence[int],
                outputs: Sequence[Enforced]) -> dict[int, SentencePair]:
        """The model's outputs (`enforced`) for the sentences at `positions` as pairs, QA
        checks run: what `finish` needs of the model. It needs no archive, so in a Ray run the
        actor does it, and the driver, which stores, has less to do."""
        signature = self.system.signature
        return {i: self._pair(segments[i], done.en, done.terms, origin="mt", system=signature,
                              score=done.score, alternatives=done.alternatives)
                for i, done in zip(positions, outputs, strict=True)}

    def finish(self, plan: DocumentPlan, translated: Mapping[int, SentencePair]
               ) -> DocumentResult:
        """The document's pairs, from the plan and the model's for its `todo` positions
        (`translated`: position -> pair, see `decoded`), stored in one transaction when there
        is an archive."""
        decided = {**plan.decided, **{i: translated[i] for i in plan.todo}}
        pairs = [decided[i] for i in range(len(plan.segments))]
        document = plan.document
        doc_id = None
        if self.archive is not None:
            doc_id = self.archive.save_document(document, pairs, self.system)
            pairs = [replace(p, doc=doc_id) for p in pairs]
        return DocumentResult(replace(document, id=doc_id), doc_id, pairs,
                              reused=sum(1 for p in pairs if p.origin == "tm"))

    def translate(self, sources: Sequence[str]) -> list[tuple[str, tuple[TermStatus, ...]]]:
        """Translate sentences (any order, any length) and enforce the glossary."""
        return [(done.en, done.terms) for done in self.enforced(sources)]

    def enforced(self, sources: Sequence[str]) -> list[Enforced]:
        """`translate` with the score of each translation and the alternatives kept."""
        pieces, owner = self._pieces(sources)
        hypotheses = self._decode(pieces)
        joined: list[list[Hypothesis]] = [[] for _ in sources]
        for piece_owner, hypothesis in zip(owner, hypotheses, strict=True):
            joined[piece_owner].append(hypothesis)
        # One piece: the engine's own hypothesis (it may carry what the engine needs to
        # enforce the glossary without decoding the sentence again).
        merged = [hs[0] if len(hs) == 1 else
                  Hypothesis(" ".join(h.text for h in hs), min(h.score for h in hs))
                  for hs in joined]
        if self.glossary is None:
            return [Enforced(h.text, (), h.score) for h in merged]
        return self.glossary.enforce(sources, merged, self.engine, self.settings)

    def _pieces(self, sources: Sequence[str]) -> tuple[list[str], list[int]]:
        """Sentences longer than the model accepts are cut at clause boundaries."""
        limit = self.engine.max_input_tokens
        pieces: list[str] = []
        owner: list[int] = []
        for i, (source, length) in enumerate(zip(sources, self.engine.count_tokens(sources),
                                                 strict=True)):
            parts = [source] if length <= limit else split_long(
                source, lambda text: self.engine.count_tokens([text])[0], limit)
            pieces += parts
            owner += [i] * len(parts)
        return pieces, owner

    def _decode(self, sentences: Sequence[str]) -> list[Hypothesis]:
        lengths = self.engine.count_tokens(sentences)
        results: list[Hypothesis | None] = [None] * len(sentences)
        batches = plan_batches(lengths, self.settings.max_batch_tokens,
                               self.settings.max_batch_sentences)
        translated = self.engine.translate_batches(
            ([sentences[i] for i in batch] for batch in batches), self.settings)
        for number, (batch, hypotheses) in enumerate(zip(batches, translated, strict=True),
                                                     start=1):
            for i, hypothesis in zip(batch, hypotheses, strict=True):
                results[i] = hypothesis
            if self.on_progress:
                self.on_progress(len(batch))
            if number < len(batches):  # after the last one, the document is stored first
                self._stop_if_asked()
        return [h for h in results if h is not None]

    def _stop_if_asked(self) -> None:
        if self.should_stop():
            raise Interrupted

    def _pair(self, s: Segment, en: str, terms: tuple[TermStatus, ...] = (), **fields: Any
              ) -> SentencePair:
        """Sentence `s` with its English and what is known of it, its QA flags checked."""
        return SentencePair(doc=None, index=s.index, paragraph=s.paragraph, ru=s.ru, en=en,
                            terms=terms, flags=self._flags(s.ru, en, terms), start=s.start,
                            end=s.end, **fields)

    def _flags(self, ru: str, en: str, terms: tuple[TermStatus, ...]) -> tuple[Flag, ...]:
        flags = [Flag("glossary-missing", "warning", f"«{t.ru}» should be “{t.en}”")
                 for t in terms if t.status == "missing"]
        flags += _language_flags(ru)
        for check in self.checks:
            flags += check(ru, en)
        return tuple(flags)


def _language_flags(ru: str) -> list[Flag]:
    """`not-russian` for a sentence whose letters are not (mostly) Cyrillic."""
    letters = [c for c in URL.sub(" ", ru) if c.isalpha()]
    if not letters:
        return []  # numbers, URLs, emoji: nothing to say
    cyrillic = sum(1 for c in letters if CYRILLIC.match(c))
    if cyrillic == 0:
        return [Flag("not-russian", "warning", "no Cyrillic letters: copied untranslated")]
    if cyrillic / len(letters) < MOSTLY_RUSSIAN:
        return [Flag("not-russian", "warning",
                     f"only {cyrillic} of {len(letters)} letters are Cyrillic: check the "
                     "translation")]
    return []
