"""The archive's human side: post-edits, each sentence's history of translations, and import
merging (a memory file's translations added to the stored document they belong to).

Methods of `corpus.store.Archive` (a mixin: they use its connection and transactions), kept
here so that the archive is split by job; the SQL is the same on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from corpus import pg_search
from corpus.errors import ArchiveError, EditConflict
from corpus.lemma import lemma_text
from corpus.text import normalize_source
from corpus.types import Document, Kind, SentencePair, System

if TYPE_CHECKING:
    from corpus.store import Archive


@dataclass(frozen=True)
class HistoryEntry:
    """One stored translation of a sentence, oldest first; `current` marks the one shown."""

    index: int
    ru: str
    en: str
    kind: str
    system: str  # signature of the system, "" for post-edits and imports
    created: str
    current: bool
    # An alternative (kind `mt, unconstrained`, ...): the model's log-probability per token.
    score: float | None = None
    id: int = 0
    origin: str = ""  # mt | tm (copied from memory) | copy | post-edit | reference
    source_id: int | None = None  # origin tm: the translation copied
    source: str = ""  # where that one is: "post-edit of 3:7"
    editor: str | None = None  # who made a post-edit (when it was recorded)


@dataclass(frozen=True)
class ImportOutcome:
    doc_id: int
    new_document: bool
    added: int  # translations stored (identical ones already there are skipped)
    kinds: tuple[str, ...] = ()  # the kinds of those stored, in the order first stored


# The current translation: post-edits before machine translations before references.
CURRENT_ORDER = "CASE t.kind WHEN 'post-edit' THEN 0 WHEN 'mt' THEN 1 ELSE 2 END"


class HistoryMixin:
    """Post-editing, history and import (see the module docstring)."""

    def segment_id(self: Archive, doc_id: int, index: int) -> int:
        row = self.db.execute("SELECT id FROM segments WHERE doc_id = ? AND idx = ?",
                              (doc_id, index)).fetchone()
        if row is None:
            self.document(doc_id)  # names a missing document first
            raise ArchiveError(f"{self.path}: document {doc_id} has no sentence {index}; "
                               f"`ruen show {doc_id}` lists them.")
        return row[0]

    def post_edit(self: Archive, doc_id: int, index: int, en: str, *,
                  editor: str | None = None, version: int | None = None) -> bool:
        """Store a human correction of sentence `index` of `doc_id` by `editor`; it becomes
        the current translation. False (nothing stored) when it equals the current translation.

        `version` is the id of the current translation the editor saw (`current_version`):
        when another translation has become current since, nothing is stored and EditConflict
        carries both texts, so that one reviewer's save never silently overwrites another's.
        """
        if not en.strip():
            raise ArchiveError("the new translation is empty; nothing stored.")
        with self.transaction():
            segment = self.segment_id(doc_id, index)
            # the translation shown (a reference when there is nothing else)...
            shown = self.db.execute(
                f"SELECT t.id, t.en FROM translations t WHERE t.segment_id = ?"
                f" ORDER BY {CURRENT_ORDER}, t.id DESC LIMIT 1", (segment,)).fetchone()
            # ...and the one a post-edit replaces (references are never replaced)
            current = self.db.execute(
                "SELECT en FROM translations WHERE segment_id = ? AND kind != 'reference'"
                " ORDER BY kind = 'post-edit' DESC, id DESC LIMIT 1", (segment,)).fetchone()
            if current is not None and current[0] == en:
                return False
            shown_id, shown_en = (shown[0], shown[1]) if shown else (0, "")
            if version is not None and version != shown_id:
                raise EditConflict(doc_id, index, theirs=shown_en, yours=en, version=shown_id)
            self._insert_translation(segment_id=segment, system_id=None, kind="post-edit",
                                     en=en, origin="post-edit", editor=editor)
        return True

    def current_version(self: Archive, doc_id: int, index: int) -> int:
        """The id of a sentence's current translation (0 when it has none): what an editor
        saw, handed back to `post_edit(version=...)`."""
        segment = self.segment_id(doc_id, index)
        row = self.db.execute(
            f"SELECT t.id FROM translations t WHERE t.segment_id = ?"
            f" ORDER BY {CURRENT_ORDER}, t.id DESC LIMIT 1", (segment,)).fetchone()
        return row[0] if row else 0

    def sentence(self: Archive, doc_id: int, index: int) -> str:
        """The Russian of sentence `index` of `doc_id` (an ArchiveError naming what is missing)."""
        segment = self.segment_id(doc_id, index)
        return self.db.execute("SELECT ru FROM segments WHERE id = ?", (segment,)).fetchone()[0]

    def add_post_edits(self: Archive, edits: Sequence[tuple[int, int, str]]) -> list[bool]:
        """Store human corrections (doc, index, English), all in one transaction; each becomes
        its sentence's current translation, unless that English is already stored for the
        sentence (as any kind: an unchanged target of a file sent out for post-editing).
        Returns, per edit, whether it was stored."""
        stored = []
        with self.transaction():
            for doc_id, index, en in edits:
                segment = self.segment_id(doc_id, index)
                added = self._insert_translation(
                    segment_id=segment, system_id=None, kind="post-edit", en=en,
                    origin="post-edit", unless="o.segment_id = n.segment_id AND o.en = n.en")
                stored.append(added is not None)
        return stored

    def history(self: Archive, doc_id: int) -> list[HistoryEntry]:
        """Every translation of every sentence of a document, sentence by sentence, oldest
        first; a translation copied from memory says which one it copies."""
        self.document(doc_id)
        rows = self.db.execute(
            """SELECT s.id AS sid, s.idx, s.ru, t.id AS tid, t.en, t.kind, t.created, t.origin,
                      t.editor, t.source_translation_id AS source, o.kind AS source_kind,
                      os.doc_id AS source_doc, os.idx AS source_idx,
                      y.model, y.revision, y.backend, y.settings
               FROM segments s JOIN translations t ON t.segment_id = s.id
               LEFT JOIN systems y ON y.id = t.system_id
               LEFT JOIN translations o ON o.id = t.source_translation_id
               LEFT JOIN segments os ON os.id = o.segment_id
               WHERE s.doc_id = ? ORDER BY s.idx, t.id""", (doc_id,)).fetchall()
        alternatives: dict[int, list[Any]] = {}
        for a in self.db.execute(
                """SELECT a.translation_id, a.kind, a.en, a.score FROM translation_alternatives a
                   JOIN translations t ON t.id = a.translation_id
                   JOIN segments s ON s.id = t.segment_id
                   WHERE s.doc_id = ? ORDER BY a.id""", (doc_id,)):
            alternatives.setdefault(a["translation_id"], []).append(a)
        current = {sid: tid for tid, sid in self.db.execute(
            f"""SELECT (SELECT t.id FROM translations t WHERE t.segment_id = s.id
                        ORDER BY {CURRENT_ORDER}, t.id DESC LIMIT 1), s.id
                FROM segments s WHERE s.doc_id = ?""", (doc_id,))}
        entries = []
        for r in rows:
            source = "" if r["source_kind"] is None else \
                f"{r['source_kind']} of {r['source_doc']}:{r['source_idx']}"
            entries.append(HistoryEntry(
                index=r["idx"], ru=r["ru"], en=r["en"], kind=r["kind"], system=signature_of(r),
                created=r["created"], current=current[r["sid"]] == r["tid"], id=r["tid"],
                origin=r["origin"], source_id=r["source"], source=source, editor=r["editor"]))
            entries += [HistoryEntry(index=r["idx"], ru=r["ru"], en=a["en"],
                                     kind=f"{r['kind']}, {a['kind']}", system=signature_of(r),
                                     created=r["created"], current=False, score=a["score"],
                                     origin="mt")
                        for a in alternatives.get(r["tid"], [])]
        return entries

    def import_document(self: Archive, title: str, path: str, pairs: Sequence[SentencePair],
                        kind: Kind | None = None, *, exclude: Iterable[int] = ()
                        ) -> ImportOutcome:
        """Store translations of a document's sentences, each as its pair's `kind` (or all as
        `kind`): human ones (`reference`, `post-edit`), or machine ones with their `system`
        signature as ruen exports them. Several pairs may give one sentence several
        translations.

        When a stored document has these sentences (by content, case, spacing and ё aside),
        in this order, the translations are added to it (never to one of `exclude`: the other
        documents of the same file); otherwise a document is made of the sentences
        (paragraphs separated by blank lines). All or nothing. A translation already
        stored (same sentence, kind, system and English) is not added again.
        """
        if kind is not None:
            pairs = [replace(p, kind=kind, origin=kind, system="") for p in pairs]
        pairs = sorted(pairs, key=lambda p: p.index)
        if not pairs:
            raise ArchiveError(f"{path}: nothing to import.")
        sentences: list[SentencePair] = []  # the first pair of each position
        for p in pairs:
            if not sentences or sentences[-1].index != p.index:
                sentences.append(p)

        def store() -> ImportOutcome:
            with self.transaction():
                found = self._document_with(sentences, frozenset(exclude))
                if found is None:
                    text, placed = _text_of(sentences)
                    doc_id = self._upsert_document(
                        Document(path=path, title=title, text=text,
                                 metadata={"imported": path}), new=True)
                    segment_ids = self._upsert_segments(doc_id, placed)
                else:
                    doc_id, segment_ids = found
                added, kinds = 0, dict[str, None]()  # kinds stored, in order
                for p in pairs:
                    system_id = (self.system_id(system_from_signature(p.system)) if p.system
                                 else None)
                    segment = segment_ids[p.index]
                    stored = self._insert_translation(
                        segment_id=segment, system_id=system_id, kind=p.kind, en=p.en,
                        origin=p.origin, score=p.score,
                        unless="o.segment_id = n.segment_id AND o.kind = n.kind"
                               " AND o.en = n.en AND o.system_id IS NOT DISTINCT FROM n.system_id")
                    if stored is not None:
                        added += 1
                        kinds[p.kind] = None
            return ImportOutcome(doc_id, found is None, added, tuple(kinds))

        return self._retrying(store)

    def _document_with(self: Archive, pairs: Sequence[SentencePair], exclude: frozenset[int]
                       ) -> tuple[int, dict[int, int]] | None:
        """A stored document having all these sentences (normalised) in this order, the last
        of them being its last (so that a file of one document's start is not taken for it),
        with the segment id for each pair's index: at the same positions if they are there,
        else the first match of each after the previous one (a memory that skipped some
        sentences). The smallest such document wins."""
        keys = [normalize_source(p.ru) for p in pairs]
        candidates = self.db.execute(
            "SELECT DISTINCT doc_id, (SELECT count(*) FROM segments c WHERE c.doc_id ="
            " s.doc_id) AS n FROM segments s WHERE ru_norm = ? ORDER BY n, doc_id",
            (keys[-1],)).fetchall()
        for doc_id, _ in candidates:
            stored = self.db.execute("SELECT idx, id, ru_norm FROM segments WHERE doc_id = ?"
                                     " ORDER BY idx", (doc_id,)).fetchall()
            if doc_id in exclude or stored[-1][2] != keys[-1]:
                continue
            at = {idx: (id_, norm) for idx, id_, norm in stored}
            if stored[-1][0] == pairs[-1].index and all(
                    at.get(p.index, (0, ""))[1] == key
                    for p, key in zip(pairs, keys, strict=True)):
                return doc_id, {p.index: at[p.index][0] for p in pairs}
            mapping: dict[int, int] = {}
            position = 0
            for p, key in zip(pairs, keys, strict=True):
                while position < len(stored) and stored[position][2] != key:
                    position += 1
                if position == len(stored):
                    break
                mapping[p.index] = stored[position][1]
                position += 1
            if len(mapping) == len(pairs) and position == len(stored):
                return doc_id, mapping
        return None

    def _same_sentences(self: Archive, pairs: Sequence[SentencePair]) -> int | None:
        """A stored document whose sentences are exactly these (normalised, in order): the
        same article stored from other text (an imported memory, other spacing)."""
        if not pairs:
            return None
        keys = [(p.index, normalize_source(p.ru)) for p in sorted(pairs, key=lambda p: p.index)]
        for (doc_id,) in self.db.execute(
                "SELECT DISTINCT doc_id FROM segments WHERE ru_norm = ? AND idx = ? ORDER BY"
                " doc_id", keys[0][::-1]).fetchall():
            stored = [tuple(row) for row in self.db.execute(
                "SELECT idx, ru_norm FROM segments WHERE doc_id = ? ORDER BY idx", (doc_id,))]
            if stored == keys:
                return doc_id
        return None

    def _adopt(self: Archive, doc_id: int, document: Document, pairs: Sequence[SentencePair]
               ) -> None:
        """Give a stored document (say, made from an imported memory) the real text of the
        article and its sentences' real positions; its translations stay."""
        self.db.execute("UPDATE documents SET text = ?, sha256 = ?, path = ?, metadata = ?"
                        " WHERE id = ?",
                        (document.text, document.sha256, document.path, json.dumps(
                            {**self.document(doc_id).metadata, **document.metadata},
                            ensure_ascii=False), doc_id))
        for p in pairs:
            old = self.db.execute("SELECT ru FROM segments WHERE doc_id = ? AND idx = ?",
                                  (doc_id, p.index)).fetchone()[0]
            self.db.execute(
                'UPDATE segments SET paragraph = ?, start = ?, "end" = ?, ru = ? WHERE doc_id = ?'
                " AND idx = ?", (p.paragraph, p.start, p.end, p.ru, doc_id, p.index))
            if old != p.ru:
                lemmas = lemma_text(p.ru)
                self.db.execute("UPDATE segments SET ru_lemmas = ? WHERE doc_id = ? AND idx = ?",
                                (lemmas, doc_id, p.index))
                if self.backend == "postgresql":  # its lexemes in the search index
                    self.db.execute(
                        "UPDATE segments SET ru_search = CAST(? AS tsvector)"
                        " WHERE doc_id = ? AND idx = ?",
                        (pg_search.segment_vector(normalize_source(p.ru), lemmas), doc_id,
                         p.index))


def system_from_signature(signature: str) -> System:
    """The System a signature (`System.signature`) was made from, as TMX/JSONL carry it."""
    fields = dict(part.partition(":")[::2] for part in signature.split("|"))
    settings: dict[str, object] = {}
    for key, value in fields.items():
        if key not in ("model", "rev", "backend"):
            try:
                settings[key] = json.loads(value)
            except ValueError:
                settings[key] = value
    revision = fields.get("rev", "")
    return System(fields.get("model", ""), "" if revision == "local" else revision,
                  fields.get("backend", ""), settings)


def signature_of(row: Any) -> str:
    """The signature of a row's LEFT JOINed system (model, revision, backend, settings)."""
    if row["model"] is None:
        return ""
    return System(row["model"], row["revision"], row["backend"],
                  json.loads(row["settings"])).signature


def _text_of(pairs: Sequence[SentencePair]) -> tuple[str, list[SentencePair]]:
    """A document text made of sentences: a space within a paragraph, a blank line between
    paragraphs; the pairs come back with their offsets in it."""
    text, placed, previous = "", [], None
    for p in pairs:
        if previous is not None:
            text += " " if p.paragraph == previous else "\n\n"
        placed.append(replace(p, start=len(text), end=len(text) + len(p.ru)))
        text += p.ru
        previous = p.paragraph
    return text, placed
