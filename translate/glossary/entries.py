"""The glossary's value types: an entry (one Russian form and its English target) and a match."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One Russian name (any case form of it matches) and the English it must come out as.

    `variants` are known wrong English renderings, rewritten to `en` in sentences that contain
    the Russian term. `origin` is `file:line` where the entry was defined.
    """

    ru: str
    en: str
    note: str = ""
    variants: tuple[str, ...] = ()
    case_sensitive: bool = True
    origin: str = ""


@dataclass(frozen=True)
class TermMatch:
    """A glossary term found in a Russian sentence: `sentence[start:end] == surface`."""

    entry: Entry
    start: int
    end: int
    surface: str
