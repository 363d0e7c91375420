"""The glossary's value types: an entry (one Russian form and its English target) and a match."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.lemma import fold


@dataclass(frozen=True)
class Entry:
    """One Russian name (any case form of it matches) and the English it must come out as.

    `variants` are known wrong English renderings, rewritten to `en` in sentences that contain
    the Russian term. `admitted` are other correct renderings (a termbase's admitted terms):
    a translation carrying one of them has the term, and they are never rewritten. `origin` is
    `file:line` where the entry was defined.
    """

    ru: str
    en: str
    note: str = ""
    variants: tuple[str, ...] = ()
    case_sensitive: bool = True
    origin: str = ""
    admitted: tuple[str, ...] = ()

    @property
    def renderings(self) -> tuple[str, ...]:
        """Every correct English rendering: the target first, then the admitted ones."""
        return (self.en, *self.admitted)


def term_key(ru: str) -> str:
    """What makes two Russian terms the same entry: case, ё/е, hyphens and spacing aside."""
    return " ".join(fold(ru).replace("-", " ").split())


@dataclass(frozen=True)
class TermMatch:
    """A glossary term found in a Russian sentence: `sentence[start:end] == surface`."""

    entry: Entry
    start: int
    end: int
    surface: str
