"""Words to index keys: every form of a word gets the same key, so that a search for
`Хомс` finds `Хомса`, `Хомсе` and `Хомсом`, `командование` finds `Командованием`, and `think`
finds `thought`.

The key of a word is its pymorphy3 lemma, case folded, ё written е, with one final vowel, `ь` or
`й` removed. The last step is what makes unknown place names meet: pymorphy3 reads `Хама` as the
genitive of `хам` but `Хамой` as a form of a feminine `хама`, and `Хасака` as `хасак` but
`Хасакой` as `хасака`; without the final vowel both are `хам` and `хасак`. The price is that a
few lemmas differing only in that vowel share a key (`банк`/`банка`), which costs a little
precision in search and nothing in recall.

English keys (`english_key`) are lemmas from lemminflect, whose dictionaries ship in its wheel:
`thought` → think, `came` → come, `children` → child, `better` → good. The index stems the keys
further (SQLite's porter tokenizer), so regular words still meet their derived forms as before
(`advance`, `advances`, `advancing`). Without part of speech a word's readings are ambiguous;
the key is the first reading, in the order of `ENGLISH_READINGS`, that differs from the word
itself: an irregular form is far more often an inflection (`left` of leave, `found` of find)
than a word of its own. A search uses the same keys, so a reading chosen wrongly joins two
words (`thought` the noun with think) but never loses a form. Words lemminflect does not know
(names: `Homs`, `Hezbollah`) are their own key. `bench/lemma.py` measures precision and recall
of lemma search on annotated text.

Tokens are runs of letters and digits, the same runs SQLite's `unicode61` tokenizer makes, so the
n-th key in an indexed column belongs to the n-th token of the sentence (search relies on this
to highlight matches in the original text).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache

from pymorphy3 import MorphAnalyzer

TOKEN = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-яё]")
#: Removed (once) from the end of a lemma that stays at least MIN_STEM letters long.
_FINAL = frozenset("аяоеьйыи")
MIN_STEM = 3
#: pymorphy3 guesses indeclinable names (`Fixd`) for unknown words; a declinable reading of the
#: same word, when there is one, is the one that meets the word's other forms.
_GUESSED_INDECLINABLE = "Fixd"

_lock = threading.Lock()
_analyzer: MorphAnalyzer | None = None


def analyzer() -> MorphAnalyzer:
    """The process-wide pymorphy3 analyzer, built on first use (it loads dictionaries)."""
    global _analyzer
    with _lock:
        if _analyzer is None:
            _analyzer = MorphAnalyzer()
        return _analyzer


def fold(text: str) -> str:
    """Case folded, ё written е: the form in which exact (non-lemma) matching happens."""
    return text.casefold().replace("ё", "е")


def tokens(text: str) -> Iterator[re.Match[str]]:
    """The word tokens of a text, with their offsets."""
    return TOKEN.finditer(text)


@lru_cache(maxsize=500_000)
def lemma_key(word: str) -> str:
    """The index key of one word token (see the module docstring); non-Russian words are only
    folded."""
    folded = fold(word)
    if not _CYRILLIC.search(folded):
        return folded
    parses = analyzer().parse(folded)
    declinable = [p for p in parses if _GUESSED_INDECLINABLE not in p.tag]
    best = (declinable or parses)[0]
    lemma = fold(best.normal_form)
    match = TOKEN.search(lemma)  # a lemma must stay one token for the position mapping
    if match is None or match.group() != lemma:
        lemma = folded
    if len(lemma) > MIN_STEM and lemma[-1] in _FINAL:
        lemma = lemma[:-1]
    return lemma


def lemma_text(text: str) -> str:
    """The keys of every token of `text`, space separated, in token order."""
    return " ".join(lemma_key(m.group()) for m in tokens(text))


# ---------------------------------------------------------------- English

#: The parts of speech whose lemmas are read, in order (see the module docstring).
ENGLISH_READINGS = ("VERB", "AUX", "NOUN", "ADJ", "ADV")


@lru_cache(maxsize=500_000)
def english_key(word: str) -> str:
    """The index key of one English word token: its lemma, case folded."""
    from lemminflect import getAllLemmas  # its dictionaries load on first use (0.3 s)

    folded = word.casefold()
    readings = getAllLemmas(folded)
    for pos in ENGLISH_READINGS:
        for lemma in readings.get(pos, ()):
            lemma = lemma.casefold()
            # a lemma must stay one token for the position mapping (see above)
            if lemma != folded and TOKEN.fullmatch(lemma):
                return lemma
    return folded


def english_lemma_text(text: str) -> str:
    """The English keys of every token of `text`, space separated, in token order."""
    return " ".join(english_key(m.group()) for m in tokens(text))
