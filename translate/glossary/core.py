"""The glossary: entries layered from files, matching, enforcement in decoding and checking."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from corpus.errors import FormatError
from corpus.types import Hypothesis, TermState, TermStatus
from translate.engine.base import DecodeSettings, Engine
from translate.glossary.entries import Entry, TermMatch, term_key
from translate.glossary.load import DEFAULT_GLOSSARY, read_file, user_glossary_path
from translate.glossary.match import Matcher
from translate.glossary.verify import renders, rewrite_variants


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


class Glossary:
    """Russian terms and their English targets (see `translate.pipeline.TermPolicy`)."""

    def __init__(self, entries: Sequence[Entry], sources: Sequence[str] = (),
                 summaries: Sequence[str] = ()) -> None:
        self.entries = list(entries)
        self.sources = list(sources)
        #: one line per termbase file: what its concepts became (merged, skipped)
        self.summaries = list(summaries)
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
                settings: DecodeSettings) -> list[tuple[str, tuple[TermStatus, ...]]]:
        """Final English and term statuses per sentence.

        A hypothesis that already has every target is kept as it is (`ok`). Otherwise the known
        wrong renderings are rewritten; if targets are still missing the sentence is decoded
        again with every target as a constraint (`enforced`). What even that cannot place
        (a backend without constraints, a target the vocabulary cannot spell) stays `missing`.
        """
        results = []
        for source, hypothesis in zip(sources, hypotheses, strict=True):
            matches = self.match(source)
            results.append(self._enforce_one(source, hypothesis.text, matches, engine,
                                             settings) if matches else (hypothesis.text, ()))
        return results

    def _enforce_one(self, source: str, english: str, matches: Sequence[TermMatch],
                     engine: Engine, settings: DecodeSettings
                     ) -> tuple[str, tuple[TermStatus, ...]]:
        entries = list(dict.fromkeys(m.entry for m in matches))
        targets = list(dict.fromkeys(e.en for e in entries))
        had = {e.en for e in entries if renders(english, e)}  # an admitted rendering will do
        if len(had) == len(targets):
            return english, self._statuses(matches, english, set())
        missing = [e for e in entries if e.en not in had]
        english, _ = rewrite_variants(english, missing)
        if (not all(renders(english, e) for e in entries) and engine.supports_constraints
                and self._fits(engine, source)):
            try:
                decoded = engine.translate_constrained(source, targets, settings).text
            except NotImplementedError:
                decoded = english
            decoded, _ = rewrite_variants(decoded, entries)
            found = sum(renders(decoded, e) for e in entries)
            if found > sum(renders(english, e) for e in entries):
                english = decoded
        helped = {t for t in targets if t not in had}
        return english, self._statuses(matches, english, helped)

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
