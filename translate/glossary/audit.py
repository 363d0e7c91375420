"""How consistently the archive renders each glossary term: for every entry, the sentences
containing it and each distinct English rendering found for it, with counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from corpus.types import SentencePair
from translate.glossary.core import Glossary
from translate.glossary.entries import Entry
from translate.glossary.verify import find

#: How close (rapidfuzz ratio or token-sorted ratio, 0-100) a run of English words must be to
#: the target to be taken as the model's rendering of it (`Khama` for `Hama`: 89).
MIN_SIMILARITY = 70
NOT_FOUND = "(not found)"
_WORD = re.compile(r"[\w'’-]+")


@dataclass
class EntryAudit:
    entry: Entry
    sentences: int = 0
    renderings: Counter[str] = field(default_factory=Counter)
    # with `audit(..., where=True)`: (doc, index) of the sentences of each rendering
    where: dict[str, list[tuple[int | None, int]]] = field(default_factory=dict)

    @property
    def consistent(self) -> bool:
        return set(self.renderings) <= set(self.entry.renderings)  # admitted ones are right too

    def as_json(self) -> dict[str, object]:
        return {"ru": self.entry.ru, "en": self.entry.en, "admitted": list(self.entry.admitted),
                "sentences": self.sentences,
                "consistent": self.consistent,
                "renderings": [{"en": en, "count": n} for en, n in self.renderings.most_common()]}


def rendering(english: str, entry: Entry) -> str:
    """What stands for `entry` in `english`: the target, an admitted rendering, a listed
    variant, the run of words most like the target (one word fewer to two more than it has),
    or NOT_FOUND. A capital that only starts the sentence is not a different rendering: `The
    Assad regime said` counts as `the Assad regime`."""
    for candidate in (*entry.renderings, *entry.variants):
        if (m := find(english, candidate)) is not None:
            return _sentence_case_folded(english, m.start(), m.group(), candidate)
    words = list(_WORD.finditer(english))
    size = len(entry.en.split())
    best, best_score = NOT_FOUND, float(MIN_SIMILARITY)
    for n in range(max(1, size - 1), size + 3):  # `Command of Military Operations`: 4 for 3
        for i in range(len(words) - n + 1):
            text = english[words[i].start():words[i + n - 1].end()]
            score = max(fuzz.ratio(text, entry.en), fuzz.token_sort_ratio(text, entry.en))
            if score > best_score:
                best, best_score = _sentence_case_folded(english, words[i].start(), text,
                                                         entry.en), score
    return best


def _sentence_case_folded(english: str, start: int, found: str, like: str) -> str:
    """`found` with its first letter in `like`'s case when only the sentence start made it a
    capital (nothing but quotes, brackets or spaces before it)."""
    if like[:1].islower() and found[:1].isupper() and not _WORD.search(english[:start]):
        return found[0].lower() + found[1:]
    return found


def audit(glossary: Glossary, pairs: Iterable[SentencePair], *, where: bool = False
          ) -> list[EntryAudit]:
    """One EntryAudit per glossary entry, in glossary order (entries never seen included);
    with `where`, each also says which sentences have which rendering."""
    audits = {entry: EntryAudit(entry) for entry in glossary.entries}
    for pair in pairs:
        for entry in dict.fromkeys(m.entry for m in glossary.match(pair.ru)):
            found = rendering(pair.en, entry)
            audits[entry].sentences += 1
            audits[entry].renderings[found] += 1
            if where:
                audits[entry].where.setdefault(found, []).append((pair.doc, pair.index))
    return list(audits.values())
