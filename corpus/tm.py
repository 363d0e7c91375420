"""Translation memory for a translator working by hand: stored sentences like a new one, with
their translations and how similar they are.

(Exact reuse during machine translation is `Archive.translation_memory`, used by the pipeline.)
Candidates come from the full-text index (sentences sharing the most lemmas), so a lookup stays
fast on a large archive. Each candidate is then scored as OmegaT scores fuzzy matches: on word
tokens (punctuation, case and ё/е aside), 100 × (1 − edit distance in tokens ÷ the longer
sentence's tokens), once on lemmas (`score`: `Хомсу` and `Хомса` are the same word) and once on
word forms (`words`: what is left to edit). A stored sentence that contains a run of at least
FRAGMENT_WORDS of yours (by lemma) but is too long or too different for a whole-sentence match is
a *fragment* match, scored by how much of your sentence (in letters) the run covers: the
concordance a translator reaches for when no sentence is close.

Whole-sentence matches come first, then fragments; within each, by score, then by word score,
then human translations (post-edit, reference) before machine output, then the newest. Each
stored translation is a hit of its own, labelled with its kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rapidfuzz.distance import Levenshtein

from corpus.errors import QueryError
from corpus.lemma import fold, lemma_key, tokens
from corpus.search import Searcher
from corpus.store import Archive
from corpus.text import normalize_source

DEFAULT_THRESHOLD = 60.0  # below this a match helps a translator less than it distracts
DEFAULT_LIMIT = 5
CANDIDATES = 200
#: The shortest run of shared words that makes a fragment match (one word is a search hit).
FRAGMENT_WORDS = 2
#: Human translations first at equal scores; the newest of each kind is offered.
KIND_ORDER = {"post-edit": 0, "reference": 1, "mt": 2}
MatchType = Literal["fuzzy", "fragment"]


@dataclass(frozen=True)
class TMMatch:
    """A stored sentence similar to the one looked up, with one of its translations.

    `similarity` is the score it is ranked by (0-100): the lemma-based fuzzy score of a
    `fuzzy` match, the share of the query covered by a `fragment` match; `words` is the fuzzy
    score on word forms. `span` is the part of `ru` that matched, for a fragment.
    """

    similarity: float
    ru: str
    en: str
    kind: str  # of the translation: post-edit | reference | mt
    doc: int
    index: int
    match: MatchType = "fuzzy"
    words: float = 0.0
    span: tuple[int, int] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"similarity": round(self.similarity, 1), "words": round(self.words, 1),
                "match": self.match, "ru": self.ru, "en": self.en, "kind": self.kind,
                "doc": self.doc, "index": self.index,
                "span": list(self.span) if self.span else None}


@dataclass(frozen=True)
class _Tokens:
    words: tuple[str, ...]  # folded word forms
    lemmas: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, text: str) -> _Tokens:
        found = list(tokens(text))
        return cls(tuple(fold(m.group()) for m in found),
                   tuple(lemma_key(m.group()) for m in found), tuple(m.span() for m in found))


def fuzzy_score(a: Sequence[str], b: Sequence[str]) -> float:
    """OmegaT's similarity of two token sequences, 0-100."""
    longest = max(len(a), len(b))
    return 100.0 * (1 - Levenshtein.distance(a, b) / longest) if longest else 100.0


def longest_run(a: Sequence[str], b: Sequence[str]) -> tuple[int, int, int]:
    """The longest run of tokens `a` and `b` share: (start in a, start in b, length)."""
    best = (0, 0, 0)
    previous = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        current = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                current[j] = previous[j - 1] + 1
                if current[j] > best[2]:
                    best = (i - current[j], j - current[j], current[j])
        previous = current
    return best


@dataclass(frozen=True)
class _Scored:
    match: MatchType
    score: float
    words: float
    span: tuple[int, int] | None


def _score(query: _Tokens, stored: _Tokens, threshold: float) -> _Scored | None:
    score = fuzzy_score(query.lemmas, stored.lemmas)
    words = fuzzy_score(query.words, stored.words)
    if score >= threshold:
        return _Scored("fuzzy", score, words, None)
    start, stored_start, length = longest_run(query.lemmas, stored.lemmas)
    if length < FRAGMENT_WORDS:
        return None
    letters = [len(w) for w in query.words]
    coverage = 100.0 * sum(letters[start:start + length]) / sum(letters)
    if coverage < threshold:
        return None
    span = (stored.spans[stored_start][0], stored.spans[stored_start + length - 1][1])
    return _Scored("fragment", coverage, words, span)


def lookup(archive: Archive, sentence: str, *, limit: int = DEFAULT_LIMIT,
           threshold: float = DEFAULT_THRESHOLD) -> list[TMMatch]:
    """Stored translations of sentences like `sentence` (see the module docstring), best first;
    each distinct (source, English) once."""
    if not sentence.strip():
        raise QueryError("give a Russian sentence to look up.")
    if limit < 1 or not 0 <= threshold <= 100:
        raise QueryError("--limit must be at least 1 and --threshold between 0 and 100.")
    query = _Tokens.of(sentence)
    if not query.words:
        raise QueryError(f"{sentence!r}: no words to look up.")
    searcher = Searcher(archive)
    ranked: list[tuple[tuple[Any, ...], TMMatch]] = []
    for segment, ru in searcher.similar_segments(sentence, CANDIDATES):
        scored = _score(query, _Tokens.of(ru), threshold)
        if scored is None:
            continue
        doc, index = archive.db.execute("SELECT doc_id, idx FROM segments WHERE id = ?",
                                        (segment,)).fetchone()
        for translation, en, kind in _translations(archive, segment):
            order = (scored.match != "fuzzy", -scored.score, -scored.words, KIND_ORDER[kind],
                     -translation)
            ranked.append((order, TMMatch(scored.score, ru, en, kind, doc, index,
                                          scored.match, scored.words, scored.span)))
    matches: list[TMMatch] = []
    seen: set[tuple[str, str]] = set()
    for _, match in sorted(ranked, key=lambda item: item[0]):
        key = (normalize_source(match.ru), match.en)  # the best-ranked label of a pair stays
        if key not in seen:
            seen.add(key)
            matches.append(match)
    return matches[:limit]


def _translations(archive: Archive, segment: int) -> list[tuple[int, str, str]]:
    """(id, English, kind) of the newest translation of each kind of a stored sentence."""
    return [(r[0], r[1], r[2]) for r in archive.db.execute(
        "SELECT t.id, t.en, t.kind FROM translations t JOIN (SELECT max(id) AS id"
        " FROM translations WHERE segment_id = ? GROUP BY kind) newest ON newest.id = t.id",
        (segment,))]
