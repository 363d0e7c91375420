"""Is a glossary target in an English sentence, and rewriting known wrong renderings to it.

A target is found as whole words (`Hama` is not in `Hamas`), case-sensitively, except that a
target starting with a lowercase word (`the Assad regime`) may start a sentence capitalised.
Quote marks and the punctuation next to them do not count: `Operation "Deterrence of
Aggression."` contains `Operation Deterrence of Aggression` (and the other way round).
Rewriting touches only the variants of entries whose Russian term is in the source sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from translate.glossary.entries import Entry

_THE = "the "


#: Quote marks, ignored inside and around a target (`Operation "Deterrence of Aggression."`).
_QUOTES = "«»„“”\"‘’'‹›"
#: Between two words of a target: spaces and quote marks, with punctuation next to them.
_BETWEEN = rf"[\s{_QUOTES},.:;!?()]*[\s{_QUOTES}][\s{_QUOTES},.:;!?()]*"


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in (w.strip(_QUOTES) for w in phrase.split()) if w]
    if not words:
        return re.compile(r"(?!)")
    first = words[0]
    if first[0].islower():
        first = f"[{first[0]}{first[0].upper()}]{first[1:]}"
    body = _BETWEEN.join([first, *words[1:]])
    return re.compile(rf"(?<![\w-]){body}(?![\w])")


def contains(english: str, target: str) -> bool:
    """Whether `target` occurs in `english` as whole words."""
    return bool(target.strip()) and _pattern(target).search(english) is not None


def renders(english: str, entry: Entry) -> bool:
    """Whether `english` carries the entry's target or one of its admitted renderings."""
    return any(contains(english, rendering) for rendering in entry.renderings)


def find(english: str, target: str) -> re.Match[str] | None:
    return _pattern(target).search(english) if target.strip() else None


def rewrite_variants(english: str, entries: Iterable[Entry]) -> tuple[str, set[Entry]]:
    """Replace the listed wrong renderings of `entries` by their targets.

    Returns the new text and the entries that were rewritten. Longer variants go first, so that
    `the regime of Assad` is rewritten whole before `regime of Assad` could be.
    """
    rewritten: set[Entry] = set()
    pairs = sorted(((v, e) for e in entries for v in e.variants if v != e.en),
                   key=lambda p: -len(p[0]))
    for variant, entry in pairs:
        pattern = _pattern(variant)
        if not pattern.search(english):
            continue

        def replace(m: re.Match[str], entry: Entry = entry, text: str = english) -> str:
            target = entry.en
            before = text[:m.start()]
            if target.startswith(_THE) and re.search(r"(?i)\bthe\s+$", before):
                target = target[len(_THE):]  # `the regime of Assad` -> `the Assad regime`
            if m.group()[0].isupper() and target[0].islower():
                target = target[0].upper() + target[1:]
            return target

        english = pattern.sub(replace, english)
        rewritten.add(entry)
    return english, rewritten
