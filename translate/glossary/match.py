"""Finding glossary terms in Russian sentences.

Each entry is expanded once into all its forms (see `forms`); a sentence is cut into words and
every run of words equal to a form is a candidate. Words of a form may be separated by spaces,
hyphens and quotes in any mix (`Дейр-эз-Зором`, `Дейр эз-Зора`, `«Сдерживание агрессии»`);
a word is a whole token, so `Дамаскин` is not `Дамаск` and `растаял` is not `Растан`.
Overlapping candidates: the longest wins (`Хассан Абдуль Гани` over `Абдуль Гани`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from corpus.lemma import fold
from translate.glossary.entries import Entry, TermMatch
from translate.glossary.forms import (
    ABBR_ENDINGS,
    CLOSE_QUOTES,
    OPEN_QUOTES,
    WORD,
    Form,
    is_abbreviation,
    phrase_forms,
)

#: What may stand between two words of one term.
_SEPARATOR = re.compile(r"[\s\-‐‑" + re.escape(OPEN_QUOTES + CLOSE_QUOTES) + r"]+")
#: A case ending written after an abbreviation with a hyphen: `ЮОЦ-а`, `СДС-ом`.
_HYPHEN_ENDING = re.compile(r"-(" + "|".join(e for e in ABBR_ENDINGS if e) + r")(?![^\W_])")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Candidate:
    first: int  # word indices, inclusive-exclusive
    stop: int
    start: int  # character offsets
    end: int
    entry: Entry


class Matcher:
    """All forms of a set of entries, indexed by their first word (case folded, ё=е)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._index: dict[str, dict[Form, Entry]] = defaultdict(dict)
        for entry in entries:  # a later entry with the same form wins
            for form in phrase_forms(entry.ru, case_sensitive=entry.case_sensitive):
                self._index[fold(form[0].text)][form] = entry

    def forms(self, entry: Entry) -> list[Form]:
        """The forms of `entry` that are in the index (for `ruen glossary list --forms`)."""
        return sorted((form for forms in self._index.values() for form, e in forms.items()
                       if e == entry), key=lambda f: [s.text for s in f])

    def match(self, text: str) -> list[TermMatch]:
        words = [_Word(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        candidates = []
        for i, word in enumerate(words):
            for form, entry in self._index.get(fold(word.text), {}).items():
                if self._fits(text, words, i, form):
                    stop = i + len(form)
                    candidates.append(_Candidate(i, stop, word.start, words[stop - 1].end,
                                                 entry))
        chosen: list[_Candidate] = []
        taken: set[int] = set()
        # longest first (in words, then characters), then leftmost
        for c in sorted(candidates, key=lambda c: (c.first - c.stop, c.start - c.end, c.start)):
            if taken.isdisjoint(range(c.first, c.stop)):
                chosen.append(c)
                taken.update(range(c.first, c.stop))
        return [self._term(text, c) for c in sorted(chosen, key=lambda c: c.start)]

    @staticmethod
    def _fits(text: str, words: list[_Word], i: int, form: Form) -> bool:
        if i + len(form) > len(words):
            return False
        for k, slot in enumerate(form):
            word = words[i + k]
            if not slot.accepts(word.text):
                return False
            if k and not _SEPARATOR.fullmatch(text, words[i + k - 1].end, word.start):
                return False
        return True

    @staticmethod
    def _term(text: str, c: _Candidate) -> TermMatch:
        start, end = c.start, c.end
        surface = text[start:end]
        if is_abbreviation(surface) and (ending := _HYPHEN_ENDING.match(text, end)):
            end = ending.end()
        # A quotation opened inside the term closes right after it: keep the pair together.
        opened = (sum(map(surface.count, "«„")) - surface.count("»")
                  - (sum(map(surface.count, "“”")) if "„" in surface else 0)
                  + surface.count('"') % 2)
        if opened > 0 and end < len(text) and text[end] in CLOSE_QUOTES:
            end += 1
        return TermMatch(c.entry, start, end, text[start:end])
