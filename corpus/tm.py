"""Translation memory for a translator working by hand: stored sentences like a new one, with
their translations and how similar they are.

(Exact reuse during machine translation is `Archive.translation_memory`, used by the pipeline.)
Candidates come from the full-text index (sentences sharing the most lemmas), so a lookup stays
fast on a large archive; rapidfuzz then scores them on the normalised text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from corpus.errors import QueryError
from corpus.search import Searcher
from corpus.store import Archive
from corpus.text import normalize_source

DEFAULT_THRESHOLD = 60.0  # below this a match helps a translator less than it distracts
DEFAULT_LIMIT = 5
CANDIDATES = 200


@dataclass(frozen=True)
class TMMatch:
    """A stored sentence similar to the one looked up; `similarity` is 0-100."""

    similarity: float
    ru: str
    en: str
    kind: str  # of the translation: post-edit | mt | reference
    doc: int
    index: int

    def as_json(self) -> dict[str, Any]:
        return {"similarity": round(self.similarity, 1), "ru": self.ru, "en": self.en,
                "kind": self.kind, "doc": self.doc, "index": self.index}


def lookup(archive: Archive, sentence: str, *, limit: int = DEFAULT_LIMIT,
           threshold: float = DEFAULT_THRESHOLD) -> list[TMMatch]:
    """Stored sentences at least `threshold` similar to `sentence`, most similar first; one per
    distinct source text, with its current translation."""
    if not sentence.strip():
        raise QueryError("give a Russian sentence to look up.")
    searcher = Searcher(archive)
    key = normalize_source(sentence)
    scored: dict[str, tuple[float, int]] = {}
    for segment, ru in searcher.similar_segments(sentence, CANDIDATES):
        norm = normalize_source(ru)
        similarity = fuzz.ratio(key, norm)
        if similarity >= threshold and norm not in scored:
            scored[norm] = (similarity, segment)
    matches = []
    for similarity, segment in sorted(scored.values(), key=lambda v: (-v[0], v[1])):
        en, kind = searcher.current_translation(segment)
        if not en:
            continue
        row = archive.db.execute("SELECT doc_id, idx, ru FROM segments WHERE id = ?",
                                 (segment,)).fetchone()
        matches.append(TMMatch(similarity, row[2], en, kind, row[0], row[1]))
        if len(matches) == limit:
            break
    return matches
