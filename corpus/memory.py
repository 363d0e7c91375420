"""Exact translation memory during machine translation: stored translations of identical
sentences, reused instead of translating them again (a mixin of `corpus.store.Archive`).

The fuzzy memory a translator consults by hand is corpus.tm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpus.text import normalize_source
from corpus.types import Kind, System

if TYPE_CHECKING:
    from corpus.store import Archive

#: Sources looked up per statement (SQLite allows 32766 parameters, PostgreSQL 65535).
CHUNK = 500


@dataclass(frozen=True)
class MemoryHit:
    """A stored translation of an identical sentence, found by translation memory."""

    en: str
    translation_id: int  # the original (a copy of a copy leads back to the first one)
    kind: Kind


class MemoryMixin:
    def translation_memory(self: Archive, sources: Iterable[str], system: System
                           ) -> dict[str, MemoryHit]:
        """Stored translations of identical sources (normalised): the newest post-edit, else
        the newest output of `system`. Returns {normalised source: hit}; a hit keeps the id
        of the translation it copies, so that storing it records where it came from."""
        keys = sorted({normalize_source(s) for s in sources})
        found: dict[str, MemoryHit] = {}
        system_id = self.find_system(system)  # None: post-edits only
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"""SELECT s.ru_norm, t.en, t.id, t.kind FROM segments s JOIN translations t
                    ON t.segment_id = s.id
                    WHERE s.ru_norm IN ({marks})
                      AND (t.kind = 'post-edit' OR (t.kind = 'mt' AND t.system_id = ?))
                    ORDER BY t.kind = 'post-edit', t.id""",
                [*chunk, system_id],
            )
            for key, en, translation_id, kind in rows:
                # later rows win: post-edits come last, newest last; a copy credits its source
                found[key] = MemoryHit(en, self._original(translation_id), kind)
        return found

    def _original(self: Archive, translation_id: int) -> int:
        """The translation a copy was made from, following copies of copies."""
        while True:
            row = self.db.execute("SELECT source_translation_id FROM translations WHERE id = ?",
                                  (translation_id,)).fetchone()
            if row is None or row[0] is None:
                return translation_id
            translation_id = row[0]
