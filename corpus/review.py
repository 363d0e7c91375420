"""What a reviewer looks at: documents with their review state, a document's sentences with
everything stored about their current translations, the QA flags and the model's confidence
across the archive. Functions taking an `Archive`, used by `ruen serve` (web/) and by scripts.

Each function runs a fixed number of queries (never one per sentence) and pages what may be
long, so that a page of a million-sentence archive is read in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from corpus.errors import QueryError
from corpus.lemma import fold, tokens
from corpus.search import Searcher
from corpus.store import CURRENT_ORDER, Archive, HistoryEntry
from corpus.types import Flag, SentencePair, System, TermStatus

DocumentSort = Literal["added", "published", "title"]
DOCUMENT_SORTS: tuple[DocumentSort, ...] = ("added", "published", "title")
PER_PAGE = 50
MAX_PER_PAGE = 500
# The id of segment `s`'s current translation (as `ruen show` chooses it).
_CURRENT = (f"(SELECT c.id FROM translations c WHERE c.segment_id = s.id"
            f" ORDER BY {CURRENT_ORDER.replace('t.', 'c.')}, c.id DESC LIMIT 1)")
_ORDER = {"added": "d.id DESC", "published": "coalesce(d.published, d.created) DESC, d.id DESC",
          "title": "d.title, d.id"}


@dataclass(frozen=True)
class DocumentSummary:
    """One row of the document list: what it is and how far its review has come."""

    id: int
    title: str
    path: str
    url: str | None
    site: str | None
    published: str | None
    created: str
    sentences: int = 0
    post_edited: int = 0  # sentences whose current translation is a post-edit
    errors: int = 0  # QA flags of severity error on the current translations
    warnings: int = 0

    @property
    def share_post_edited(self) -> float:
        return self.post_edited / self.sentences if self.sentences else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "share_post_edited": round(self.share_post_edited, 4)}


@dataclass(frozen=True)
class DocumentPage:
    documents: list[DocumentSummary]
    total: int  # documents matching the filters, on all pages
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ReviewSentence:
    """A sentence with its current translation (the newest post-edit, else the newest machine
    translation, else the newest reference) and what is stored about it. `version` is the
    translation's id (0: none), handed back to `Archive.post_edit(version=...)`."""

    doc: int
    index: int
    paragraph: int
    ru: str
    en: str
    kind: str  # mt | post-edit | reference | "" (no translation yet)
    origin: str
    version: int
    score: float | None = None
    system: str = ""
    editor: str | None = None
    created: str = ""
    terms: tuple[TermStatus, ...] = ()
    # True when `terms` were stored with an earlier machine translation, not with `en` (a
    # post-edit stores none): their statuses describe that one.
    terms_inherited: bool = False
    flags: tuple[Flag, ...] = ()
    title: str = ""

    @property
    def severity(self) -> str:
        """error | warning | info | "" : the worst flag."""
        for level in ("error", "warning", "info"):
            if any(f.severity == level for f in self.flags):
                return level
        return ""

    def as_json(self) -> dict[str, Any]:
        return {"doc": self.doc, "index": self.index, "paragraph": self.paragraph,
                "ru": self.ru, "en": self.en, "kind": self.kind, "origin": self.origin,
                "version": self.version,
                "score": None if self.score is None else round(self.score, 4),
                "system": self.system, "editor": self.editor, "created": self.created,
                "terms": [{"ru": t.ru, "en": t.en, "status": t.status, "start": t.start,
                           "end": t.end} for t in self.terms],
                "terms_inherited": self.terms_inherited,
                "flags": [{"check": f.check, "severity": f.severity, "message": f.message}
                          for f in self.flags]}


@dataclass(frozen=True)
class CheckCount:
    check: str
    severity: str
    count: int


@dataclass(frozen=True)
class QualitySummary:
    """QA flags stored with the current translations, by check and severity, and how many
    translations there are to review."""

    checks: list[CheckCount] = field(default_factory=list)
    translations: int = 0
    scored: int = 0  # machine translations with a stored confidence


# ---------------------------------------------------------------- documents


def list_documents(archive: Archive, *, site: str | None = None, since: str | None = None,
                   until: str | None = None, system: str | None = None, errors: bool = False,
                   sort: DocumentSort = "added", page: int = 1, per_page: int = PER_PAGE
                   ) -> DocumentPage:
    """A page of the archive's documents, filtered like `ruen search` filters (site, date of
    publication else of adding, system) and to those whose current translations carry a QA
    error; sorted newest added first, newest published first, or by title."""
    if sort not in DOCUMENT_SORTS:
        raise QueryError(f"sort {sort}: choose one of {', '.join(DOCUMENT_SORTS)}.")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"page must be at least 1 and per_page 1 to {MAX_PER_PAGE}.")
    searcher = Searcher(archive)
    where, params = searcher.document_conditions((), since, until, site)
    if system:
        marks = ",".join("?" * len(ids := searcher.system_ids(system)))
        where.append("EXISTS (SELECT 1 FROM segments x JOIN translations t ON t.segment_id ="
                     f" x.id WHERE x.doc_id = s.doc_id AND t.system_id IN ({marks}))")
        params += ids
    if errors:
        # from the flags to their documents (flags are few; documents may be many)
        where.append(
            f"s.doc_id IN (SELECT s2.doc_id FROM qa_flags f"
            f" JOIN translations t ON t.id = f.translation_id"
            f" JOIN segments s2 ON s2.id = t.segment_id"
            f" WHERE f.severity = 'error' AND t.id = {_CURRENT.replace('s.id', 's2.id')})")
    # the conditions are written for `s.doc_id` (corpus.search): `s` is each document's id
    base = ("FROM documents d JOIN (SELECT id AS doc_id FROM documents) s ON s.doc_id = d.id"
            + (" WHERE " + " AND ".join(where) if where else ""))
    total = archive.db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = archive.db.execute(
        f"SELECT d.id, d.title, d.path, d.url, d.site, d.host, d.published, d.created {base}"
        f" ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?",
        [*params, per_page, (page - 1) * per_page]).fetchall()
    counts = _document_counts(archive, [r["id"] for r in rows])
    documents = [DocumentSummary(
        id=r["id"], title=r["title"], path=r["path"], url=r["url"], site=r["site"] or r["host"],
        published=r["published"], created=r["created"], **counts.get(r["id"], {}))
        for r in rows]
    return DocumentPage(documents, total, page, per_page)


def _document_counts(archive: Archive, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Sentences, post-edited sentences, errors and warnings of these documents (three queries
    for the whole page)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for doc_id, sentences, post_edited in archive.db.execute(
            f"""SELECT s.doc_id, count(*), sum(CASE WHEN (SELECT kind FROM translations
                   WHERE id = {_CURRENT}) = 'post-edit' THEN 1 ELSE 0 END)
                FROM segments s WHERE s.doc_id IN ({marks}) GROUP BY s.doc_id""", ids):
        counts[doc_id].update(sentences=sentences, post_edited=post_edited or 0)
    for doc_id, severity, number in archive.db.execute(
            f"""SELECT s.doc_id, f.severity, count(*) FROM segments s
                JOIN qa_flags f ON f.translation_id = {_CURRENT}
                WHERE s.doc_id IN ({marks}) AND f.severity IN ('error', 'warning')
                GROUP BY s.doc_id, f.severity""", ids):
        counts[doc_id]["errors" if severity == "error" else "warnings"] = number
    return counts


def sites(archive: Archive) -> list[str]:
    """The sites (names, else hosts) documents come from, for a filter to choose among."""
    rows = archive.db.execute(
        "SELECT DISTINCT coalesce(site, host) FROM documents"
        " WHERE coalesce(site, host) IS NOT NULL ORDER BY 1")
    return [r[0] for r in rows]


def systems(archive: Archive) -> list[tuple[int, str]]:
    """(id, model) of every system that stored a translation."""
    return [(r[0], r[1]) for r in archive.db.execute("SELECT id, model FROM systems ORDER BY id")]


# ---------------------------------------------------------------- one document


def document_sentences(archive: Archive, doc_id: int, indexes: Sequence[int] | None = None
                       ) -> list[ReviewSentence]:
    """Every sentence of a document (or those at `indexes`) in order, with its current
    translation, that translation's glossary terms (else those of the newest translation that
    has any), QA flags, confidence and editor. Four queries, whatever the length."""
    title = archive.document(doc_id).title  # an ArchiveError naming a missing document
    only, params = "", [doc_id]
    if indexes is not None:
        if not indexes:
            return []
        only = f" AND s.idx IN ({','.join('?' * len(indexes))})"
        params += list(indexes)
    rows = archive.db.execute(
        f"""SELECT s.id AS sid, s.idx, s.paragraph, s.ru, t.id AS tid, t.en, t.kind, t.origin,
                   t.score, t.editor, t.created, y.model, y.revision, y.backend, y.settings
            FROM segments s
            LEFT JOIN translations t ON t.id = {_CURRENT}
            LEFT JOIN systems y ON y.id = t.system_id
            WHERE s.doc_id = ?{only} ORDER BY s.idx""", params).fetchall()
    if not rows:
        return []
    translation_ids = [r["tid"] for r in rows if r["tid"] is not None]
    flags = _by_translation(archive, translation_ids,
                            'SELECT translation_id, "check", severity, message FROM qa_flags'
                            " WHERE translation_id IN ({}) ORDER BY translation_id",
                            lambda r: Flag(r[1], r[2], r[3]))
    # terms: those stored with each sentence's newest translation that has any (a post-edit
    # stores none; the machine translation it replaced found the terms in the Russian)
    terms: dict[int, tuple[int, list[TermStatus]]] = {}  # segment -> (translation, terms)
    for r in archive.db.execute(
            f"""SELECT t.segment_id, h.translation_id, h.ru, h.en, h.status, h.start, h."end"
                FROM segments s JOIN translations t ON t.segment_id = s.id
                JOIN term_hits h ON h.translation_id = t.id
                WHERE s.doc_id = ?{only} ORDER BY t.segment_id, t.id DESC, h.start""",
            params):
        held = terms.setdefault(r[0], (r[1], []))
        if held[0] == r[1]:
            held[1].append(TermStatus(r[2], r[3], r[4], r[5], r[6]))
    result = []
    for r in rows:
        tid = r["tid"]
        term_from, found = terms.get(r["sid"], (None, []))
        result.append(ReviewSentence(
            doc=doc_id, index=r["idx"], paragraph=r["paragraph"], ru=r["ru"],
            en=r["en"] or "", kind=r["kind"] or "", origin=r["origin"] or "",
            version=tid or 0, score=r["score"], system=_signature(r), editor=r["editor"],
            created=r["created"] or "", terms=tuple(found),
            terms_inherited=term_from is not None and term_from != tid,
            flags=tuple(flags.get(tid, ())), title=title))
    return result


def sentence(archive: Archive, doc_id: int, index: int) -> ReviewSentence:
    """One sentence as `document_sentences` gives it (an ArchiveError when it is missing)."""
    archive.segment_id(doc_id, index)
    return document_sentences(archive, doc_id, [index])[0]


def sentence_history(archive: Archive, doc_id: int, index: int) -> list[HistoryEntry]:
    """Every stored translation of one sentence, oldest first, with who post-edited it."""
    archive.segment_id(doc_id, index)  # an ArchiveError naming what is missing
    return [e for e in archive.history(doc_id) if e.index == index]


# ---------------------------------------------------------------- glossary audit


def sentences_with_forms(archive: Archive, forms: Iterable[str]) -> list[SentencePair]:
    """The sentences whose Russian contains any of these word forms (or multi-word forms, as
    phrases; case and ё aside), each with its current translation (else its reference), in
    document order: the candidates a glossary audit checks, found through SQLite's full-text
    index instead of reading every sentence of the archive."""
    if getattr(archive, "backend", "sqlite") != "sqlite":
        # another backend's index is not the FTS5 table read below: every sentence, checked
        # by the caller (slower, the same result)
        return list(archive.pairs(fallback_reference=True))
    phrases = sorted({" ".join(fold(m.group()) for m in tokens(form)) for form in forms} - {""})
    segments: set[int] = set()
    for start in range(0, len(phrases), 200):
        query = " OR ".join(f'"{p}"' for p in phrases[start:start + 200])
        segments.update(r[0] for r in archive.db.execute(
            "SELECT rowid FROM segments_fts WHERE segments_fts MATCH ?",
            (f"ru_norm : ({query})",)))
    ordered = sorted(segments)
    pairs = []
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        pairs += [SentencePair(r[0], r[1], r[2], r[3], r[4] or "", kind=r[5] or "mt")
                  for r in archive.db.execute(
                      f"""SELECT s.doc_id, s.idx, s.paragraph, s.ru, t.en, t.kind
                          FROM segments s JOIN translations t ON t.id = {_CURRENT}
                          WHERE s.id IN ({','.join('?' * len(chunk))})""", chunk)]
    return sorted(pairs, key=lambda p: (p.doc or 0, p.index))


# ---------------------------------------------------------------- quality


def quality_summary(archive: Archive) -> QualitySummary:
    """The QA flags stored with the current translations, counted by check and severity."""
    rows = archive.db.execute(
        f"""SELECT f."check", f.severity, count(*) FROM qa_flags f
            JOIN translations t ON t.id = f.translation_id
            JOIN segments s ON s.id = t.segment_id
            WHERE t.id = {_CURRENT}
            GROUP BY f."check", f.severity ORDER BY count(*) DESC, f."check" """).fetchall()
    translations, scored = archive.db.execute(
        "SELECT count(*), sum(CASE WHEN score IS NULL THEN 0 ELSE 1 END) FROM translations"
    ).fetchone()
    return QualitySummary([CheckCount(r[0], r[1], r[2]) for r in rows], translations,
                          scored or 0)


def lowest_confidence(archive: Archive, limit: int = 20) -> list[ReviewSentence]:
    """The current machine translations the model was least sure of (lowest length-normalised
    log-probability first)."""
    rows = archive.db.execute(
        f"""SELECT s.doc_id, s.idx FROM translations t JOIN segments s ON s.id = t.segment_id
            WHERE t.score IS NOT NULL AND t.id = {_CURRENT}
            ORDER BY t.score, t.id LIMIT ?""", (limit,)).fetchall()
    found: list[ReviewSentence] = []
    by_doc: dict[int, list[int]] = {}
    for doc_id, index in rows:
        by_doc.setdefault(doc_id, []).append(index)
    sentences = {(s.doc, s.index): s for doc_id, indexes in by_doc.items()
                 for s in document_sentences(archive, doc_id, indexes)}
    for doc_id, index in rows:
        found.append(sentences[(doc_id, index)])
    return found


# ---------------------------------------------------------------- helpers


def _signature(row: Any) -> str:
    """The signature of a row's LEFT JOINed system (model, revision, backend, settings)."""
    if row["model"] is None:
        return ""
    return System(row["model"], row["revision"], row["backend"],
                  json.loads(row["settings"])).signature


def _by_translation(archive: Archive, ids: Sequence[int], sql: str, make: Any
                    ) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in archive.db.execute(sql.format(",".join("?" * len(chunk))), chunk):
            found.setdefault(r[0], []).append(make(r))
    return found
