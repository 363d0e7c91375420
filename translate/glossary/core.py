"""The glossary: entries layered from files, matching, enforcement in decoding and checking."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from corpus.errors import FormatError
from corpus.types import Alternative, Hypothesis, TermState, TermStatus
from translate.engine.base import ConstrainedRequest, Constraint, DecodeSettings, Engine
from translate.glossary.entries import Entry, TermMatch, term_key
from translate.glossary.load import DEFAULT_GLOSSARY, read_file, user_glossary_path
from translate.glossary.match import Matcher
from translate.glossary.verify import renders, rewrite_variants
from translate.pipeline import Enforced

#: An enforced output whose log-probability per token is more than this below the
#: unconstrained output's is taken for nonsense forced by the constraints: the unconstrained
#: output is kept and the term reported `missing`. A real model loses well under 1 on a name it
#: would not have written (a few unlikely tokens in a sentence); a sentence wrecked by forcing
#: loses 2-5.
MAX_SCORE_DROP = 2.0


def layer(files: Sequence[tuple[Path, list[Entry]]]) -> list[Entry]:
    """One entry per Russian term: inside a file a term may not have two targets; across files
    the later file wins."""
    merged: dict[str, Entry] = {}
    for path, entries in files:
        seen: dict[str, Entry] = {}
        for entry in entries:
            key = term_key(entry.ru)
            if key in seen and seen[key].en != entry.en:
                first = seen[key]
                raise FormatError(
                    f"{entry.origin}: {entry.ru!r} → {entry.en!r} contradicts {first.origin} "
                    f"({first.ru!r} → {first.en!r}); keep one of the two lines in {path}.")
            seen[key] = entry
            merged.pop(key, None)  # re-insert so that file order is kept for the newest
            merged[key] = entry
    return list(merged.values())


@dataclass(frozen=True)
class _Plan:
    """A sentence on its way through `Glossary.enforce`: its terms, the targets its first
    output had, that output with known wrong renderings rewritten, and the constrained
    decoding to ask for if targets are still missing."""

    hypothesis: Hypothesis
    matches: list[TermMatch]
    entries: tuple[Entry, ...]
    targets: tuple[str, ...]
    had: frozenset[str]
    english: str
    request: ConstrainedRequest | None


class Glossary:
    """Russian terms and their English targets (see `translate.pipeline.TermPolicy`)."""

    def __init__(self, entries: Sequence[Entry], sources: Sequence[str] = (),
                 summaries: Sequence[str] = (), *, max_score_drop: float = MAX_SCORE_DROP
                 ) -> None:
        self.entries = list(entries)
        self.sources = list(sources)
        #: one line per termbase file: what its concepts became (merged, skipped)
        self.summaries = list(summaries)
        self.max_score_drop = max_score_drop
        self._matcher = Matcher(self.entries)

    @cached_property
    def version(self) -> str:
        """A short hash of the entries: part of every translation's provenance."""
        digest = hashlib.sha256()
        for e in sorted(self.entries, key=lambda e: (e.ru, e.en)):
            # admitted renderings only when there are any: older glossaries keep their version
            digest.update("\t".join([e.ru, e.en, "|".join(e.variants), str(e.case_sensitive),
                                     *(["|".join(e.admitted)] if e.admitted else [])]
                                    ).encode() + b"\n")
        return digest.hexdigest()[:12]

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, ru: str) -> list[TermMatch]:
        """Every glossary term in a Russian sentence, in order; the longest match wins."""
        return self._matcher.match(ru)

    def forms(self, entry: Entry) -> list[str]:
        return [" ".join(slot.text for slot in form) for form in self._matcher.forms(entry)]

    # ------------------------------------------------------------ checking

    def check(self, ru: str, en: str) -> tuple[TermStatus, ...]:
        """Status of each term of `ru` in an existing translation: ok or missing."""
        return self._statuses(self.match(ru), en, set())

    @staticmethod
    def _statuses(matches: Sequence[TermMatch], english: str, helped: set[str]
                  ) -> tuple[TermStatus, ...]:
        statuses = []
        for m in matches:
            state: TermState = "missing"
            if renders(english, m.entry):
                state = "enforced" if m.entry.en in helped else "ok"
            statuses.append(TermStatus(m.surface, m.entry.en, state, m.start, m.end))
        return tuple(statuses)

    # ------------------------------------------------------------ enforcing

    def enforce(self, sources: Sequence[str], hypotheses: Sequence[Hypothesis], engine: Engine,
                settings: DecodeSettings) -> list[Enforced]:
        """Final English, term statuses and the alternatives kept, per sentence.

        A hypothesis that already has every target is kept as it is (`ok`). Otherwise the known
        wrong renderings are rewritten; the sentences still missing a target are decoded again,
        all together, with every target of theirs as a constraint (`enforced`). An enforced
        output scoring more than `max_score_drop` (log-probability per token) below the
        unconstrained one is rejected: the unconstrained output stays and its terms `missing`.
        What no decoding can place (a backend without constraints, a target the vocabulary
        cannot spell) stays `missing` too. Whatever the model said that is not kept as the
        translation is kept as an alternative.
        """
        plans = [self._plan(source, hypothesis) for source, hypothesis
                 in zip(sources, hypotheses, strict=True)]
        asked = [(i, plan.request) for i, plan in enumerate(plans) if plan.request is not None
                 and engine.supports_constraints and self._fits(engine, sources[i])]
        decoded: dict[int, Hypothesis] = {}
        if asked:
            try:
                outputs = engine.translate_constrained_batch([r for _, r in asked], settings)
                decoded = dict(zip((i for i, _ in asked), outputs, strict=True))
            except NotImplementedError:
                pass
        return [self._settle(plan, decoded.get(i)) for i, plan in enumerate(plans)]

    def _plan(self, source: str, hypothesis: Hypothesis) -> _Plan:
        matches = self.match(source)
        entries = tuple(dict.fromkeys(m.entry for m in matches))
        targets = tuple(dict.fromkeys(e.en for e in entries))
        # an admitted rendering will do
        had = frozenset(e.en for e in entries if renders(hypothesis.text, e))
        english = hypothesis.text
        request = None
        if len(had) < len(targets):
            english, _ = rewrite_variants(english, [e for e in entries if e.en not in had])
            if not all(renders(english, e) for e in entries):
                first = {}  # where each target's source term is (its first occurrence)
                for m in matches:
                    first.setdefault(m.entry.en, m)
                request = ConstrainedRequest(source, tuple(
                    Constraint(t, first[t].start, first[t].end) for t in targets), hypothesis)
        return _Plan(hypothesis, matches, entries, targets, had, english, request)

    def _settle(self, plan: _Plan, decoded: Hypothesis | None) -> Enforced:
        free = plan.hypothesis
        english, score = plan.english, free.score
        alternatives: list[Alternative] = []
        if decoded is not None:
            text, _ = rewrite_variants(decoded.text, plan.entries)
            found = sum(renders(text, e) for e in plan.entries)
            if found > sum(renders(english, e) for e in plan.entries):
                if decoded.score >= free.score - self.max_score_drop:
                    english, score = text, decoded.score
                else:
                    alternatives.append(Alternative(text, decoded.score, "constrained"))
        if english != free.text:
            alternatives.insert(0, Alternative(free.text, free.score, "unconstrained"))
        helped = {t for t in plan.targets if t not in plan.had}
        return Enforced(english, self._statuses(plan.matches, english, helped), score,
                        tuple(alternatives))

    @staticmethod
    def _fits(engine: Engine, source: str) -> bool:
        """A sentence too long for the model was translated in pieces; decoding it whole
        again would cut it, so it keeps its pieces' translation."""
        return engine.count_tokens([source])[0] <= engine.max_input_tokens


def load_glossary(paths: Sequence[Path] = (), *, use_default: bool = True) -> Glossary:
    """The shipped default glossary (unless `use_default` is false), then the user glossary of
    `ruen glossary add` if it exists, then `paths` in order; later files win."""
    files: list[Path] = []
    if use_default:
        files.append(DEFAULT_GLOSSARY)
        user = user_glossary_path()
        if user.exists():
            files.append(user)
    files += [Path(p) for p in paths]
    read = [(path, read_file(path)) for path in files]
    entries = layer([(path, found.entries) for path, found in read])
    return Glossary(entries, [str(p) for p in files],
                    [found.summary.line() for _, found in read if found.summary is not None])
