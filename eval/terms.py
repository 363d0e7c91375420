"""Terminology metrics over a glossary.

- Exact-match accuracy (WMT 2021 terminology task, Alam et al. 2021): of the glossary terms found
  in the sources, the share whose English target appears in the hypothesis of that sentence (a
  term occurring twice in a source needs its target twice).
- Consistency: for each term (keyed by its English target), the distinct renderings across the
  document or archive. Without word alignment a rendering is the target itself, one of the
  entry's English variants when that is what the hypothesis has, or "(other)".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

OTHER = "(other)"


class _Entry(Protocol):
    en: str
    variants: tuple[str, ...]
    case_sensitive: bool


class _Match(Protocol):
    entry: Any  # a translate.glossary.Entry
    surface: str


class TermSource(Protocol):
    """What terminology metrics need of a glossary (`translate.glossary.Glossary`)."""

    def match(self, ru: str) -> Sequence[Any]:
        """Every glossary term (TermMatch) in a Russian sentence."""
        ...


@dataclass
class TermRow:
    """One English target: how often its terms occur in the sources and how they came out."""

    en: str
    sources: Counter[str] = field(default_factory=Counter)  # Russian surfaces seen
    occurrences: int = 0
    hits: int = 0
    renderings: Counter[str] = field(default_factory=Counter)

    @property
    def consistent(self) -> bool:
        return len(self.renderings) <= 1

    def as_json(self) -> dict[str, Any]:
        return {"en": self.en, "ru": dict(self.sources), "occurrences": self.occurrences,
                "hits": self.hits, "renderings": dict(self.renderings)}


@dataclass(frozen=True)
class TermReport:
    occurrences: int  # glossary terms found in the sources
    hits: int  # ... whose target is in the hypothesis
    rows: tuple[TermRow, ...]

    @property
    def accuracy(self) -> float | None:
        """Exact-match accuracy in percent; None when the sources have no glossary term."""
        return 100 * self.hits / self.occurrences if self.occurrences else None

    @property
    def consistency(self) -> float | None:
        """Percent of terms seen twice or more that were always rendered the same way."""
        repeated = [r for r in self.rows if r.occurrences > 1]
        if not repeated:
            return None
        return 100 * sum(r.consistent for r in repeated) / len(repeated)

    @property
    def inconsistent(self) -> list[TermRow]:
        return [r for r in self.rows if not r.consistent]

    def as_json(self) -> dict[str, Any]:
        return {"occurrences": self.occurrences, "hits": self.hits,
                "accuracy": _round(self.accuracy), "consistency": _round(self.consistency),
                "terms": [r.as_json() for r in self.rows]}


def count_target(entry: _Entry, target: str, hypothesis: str) -> int:
    """Occurrences of `target` in the hypothesis as whole words."""
    flags = 0 if getattr(entry, "case_sensitive", True) else re.IGNORECASE
    return len(re.findall(rf"(?<!\w){re.escape(target)}(?!\w)", hypothesis, flags))


def term_report(sources: Sequence[str], hypotheses: Sequence[str],
                glossary: TermSource) -> TermReport:
    """Exact-match accuracy and consistency of `hypotheses` for the glossary's terms."""
    rows: dict[str, TermRow] = {}
    occurrences = hits = 0
    for ru, en in zip(sources, hypotheses, strict=True):
        per_target: dict[str, list[Any]] = {}
        for match in glossary.match(ru):
            per_target.setdefault(match.entry.en, []).append(match)
        for target, matches in per_target.items():
            entry = matches[0].entry
            row = rows.setdefault(target, TermRow(target))
            found = count_target(entry, target, en)
            row.occurrences += len(matches)
            row.hits += min(found, len(matches))
            row.sources.update(m.surface for m in matches)
            occurrences += len(matches)
            hits += min(found, len(matches))
            row.renderings[_rendering(entry, target, en)] += len(matches)
    ordered = sorted(rows.values(), key=lambda r: (r.hits / r.occurrences, r.en))
    return TermReport(occurrences, hits, tuple(ordered))


def _rendering(entry: _Entry, target: str, hypothesis: str) -> str:
    if count_target(entry, target, hypothesis):
        return target
    for variant in getattr(entry, "variants", ()):
        if variant and count_target(entry, variant, hypothesis):
            return variant
    return OTHER


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
