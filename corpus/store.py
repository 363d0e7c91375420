"""The bilingual archive: documents, their sentences and every translation made of them.

One `Archive` API over two backends (corpus.db): an SQLite file in WAL mode, the default (one
file, nothing to run), or a PostgreSQL database named by a URL (`postgresql://user@host/db`:
one archive a whole desk shares). One transaction per document on both. The schema and its
migrations are corpus.schema (SQLite) and corpus.pg_schema; exact translation memory is
corpus.memory; post-edits, history and import merging corpus.history. All SQL of ruen lives in
`corpus/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import platformdirs

from corpus import pg_schema, pg_search, schema
from corpus.db import (
    Backend,
    PgConnection,
    connect_postgresql,
    display_name,
    is_retryable,
    is_url,
)
from corpus.errors import ArchiveError, ArchiveOutdated
from corpus.history import (
    CURRENT_ORDER,
    HistoryEntry,
    HistoryMixin,
    ImportOutcome,
    signature_of,
    system_from_signature,
)
from corpus.lemma import english_lemma_text, lemma_text
from corpus.memory import MemoryHit, MemoryMixin
from corpus.schema import ENGLISH_LEMMAS_SQL, METADATA_COLUMNS, MIGRATIONS, SCHEMA_VERSION
from corpus.text import normalize_source
from corpus.types import Document, Flag, Kind, SentencePair, System, TermStatus, sha256_text

__all__ = [  # what other modules import from here (the archive's public API)
    "CURRENT_ORDER", "METADATA_COLUMNS", "MIGRATIONS", "SCHEMA_VERSION", "SELECTIONS",
    "Archive", "DocumentInfo", "EvalRun", "HistoryEntry", "ImportOutcome", "MemoryHit",
    "Selection", "default_archive_path", "open_archive", "system_from_signature"]

BUSY_TIMEOUT_MS = 30_000
#: Times a document's transaction is run again after PostgreSQL broke a deadlock by rolling
#: it back (two writers storing the same new document or system at once).
RETRIES = 5
Selection = Literal["current", "mt", "post-edit", "reference", "all"]
SELECTIONS: tuple[Selection, ...] = ("current", "mt", "post-edit", "reference", "all")
T = TypeVar("T")
#: The translations columns that are not text, whose type PostgreSQL cannot infer for a
#: parameter in `INSERT ... SELECT ?, ...` (a NULL would be taken for text); SQLite reads the
#: same casts as no-ops.
_PG_TYPES = {"segment_id": "BIGINT", "system_id": "BIGINT", "source_translation_id": "BIGINT",
             "score": "DOUBLE PRECISION"}
#: Many rows sent to PostgreSQL as one parameter, a JSON list of objects, followed by the
#: alias and the columns (`number`: the rows' order): psycopg turns a JSON text into a parameter in
#: microseconds, where its arrays (one per column) took milliseconds for a document.
_JSON_ROWS = "json_to_recordset(CAST(? AS json)) AS"


def _json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows of `_JSON_ROWS`, numbered in order."""
    return json.dumps([{"number": n, **row} for n, row in enumerate(rows)],
                      ensure_ascii=False)


def default_archive_path() -> str | Path:
    """`$RUEN_DB` (a file or a PostgreSQL URL), else `archive.db` in the per-user data
    directory."""
    env = os.environ.get("RUEN_DB")
    if env:
        return env if is_url(env) else Path(env)
    return Path(platformdirs.user_data_dir("ruen", appauthor=False)) / "archive.db"


def open_archive(target: str | Path | None = None, *, readonly: bool = True) -> Archive:
    """The archive at `target`, a file or a `postgresql://` URL (default:
    `default_archive_path()`). One made by an older ruen is upgraded first (keeps
    everything), so that a command that only reads works on it too."""
    target = target or default_archive_path()
    try:
        return Archive(target, readonly=readonly)
    except ArchiveOutdated:
        Archive(target).close()
        return Archive(target, readonly=readonly)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    path: str
    title: str
    sha256: str
    created: str
    segments: int
    url: str | None = None
    host: str | None = None
    site: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class EvalRun:
    """A stored evaluation: when, the metrics' signatures, and what was measured."""

    id: int
    created: str
    signature: str
    scores: dict[str, object]


class Archive(MemoryMixin, HistoryMixin):
    """A ruen archive: an SQLite file or a PostgreSQL database. Use as a context manager, or
    call `close()`.

    `db` is the connection (`db.execute(sql, params)` with `?` placeholders on both backends,
    rows readable by index and by name), `backend` "sqlite" or "postgresql", `path` the file
    (a Path) or the server and database (`postgresql://user@host:port/db`, never a password),
    `name` the same as text, for messages; `target` what it was opened with (a URL may hold a
    password: for opening it again, never for printing).
    """

    db: Any  # sqlite3.Connection | PgConnection
    backend: Backend
    path: Any  # Path | str

    def __init__(self, target: str | Path, *, readonly: bool = False) -> None:
        self.target = target
        if is_url(target):
            self._open_postgresql(str(target), readonly)
            return
        self.backend = "sqlite"
        self.path = Path(target)
        self.name = str(self.path)
        if readonly and not self.path.exists():
            raise ArchiveError(f"{self.path}: no archive here; translate something into it first.")
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ArchiveError(f"{self.path.parent}: cannot create the archive's folder "
                                   f"({exc.strerror}).") from None
        # Switching a new file to WAL answers "locked" at once, without waiting, when another
        # process is creating the same archive: retry until the busy timeout instead.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._open_sqlite(readonly)
                return
            except sqlite3.DatabaseError as exc:
                self.close()
                if _is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise archive_error(self.path, exc) or ArchiveError(
                    f"{self.path}: not a ruen archive ({exc}).") from None
            except ArchiveError:
                self.close()
                raise

    def _open_sqlite(self, readonly: bool) -> None:
        uri = f"file:{self.path}?mode=ro" if readonly else f"file:{self.path}"
        self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                  isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.create_function(ENGLISH_LEMMAS_SQL, 1, english_lemma_text, deterministic=True)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA foreign_keys = ON")
        # Checked before switching to WAL, which would change another program's database.
        version = schema.schema_version(self.db, self.path)
        if not readonly:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
        schema.migrate(self.db, self.path, version, readonly, self.transaction)
        if not readonly:
            # A write rolled back at once: a read-only file or folder is reported now, before
            # anything is translated, not when the first document is to be stored.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
            finally:
                self.db.execute("ROLLBACK")

    def _open_postgresql(self, url: str, readonly: bool) -> None:
        self.backend = "postgresql"
        self.path = self.name = display_name(url)
        self.db = connect_postgresql(url)
        try:
            version = pg_schema.schema_version(self.db)
            pg_schema.migrate(self.db, version, readonly)
            if readonly:  # a read must never write, as with SQLite's read-only files
                self.db.execute("SET default_transaction_read_only = on")
        except BaseException:
            self.close()
            raise

    @classmethod
    def on_connection(cls, db: PgConnection, target: str | Path) -> Archive:
        """An archive over a connection lent by a pool (corpus.pool), whose schema the pool
        has checked; `close()` leaves the connection to the pool."""
        archive = cls.__new__(cls)
        archive.target, archive.backend, archive.db = target, "postgresql", db
        archive.path = archive.name = db.name
        archive._borrowed = True
        return archive

    # ------------------------------------------------------------ lifecycle

    @property
    def _stored_order(self) -> str:
        """Rows of term_hits and qa_flags in the order stored: SQLite's hidden rowid, the
        `id` column PostgreSQL's tables have for it."""
        return "rowid" if self.backend == "sqlite" else "id"

    def close(self) -> None:
        # no db: the file could not even be opened; borrowed: the pool closes it
        if hasattr(self, "db") and not getattr(self, "_borrowed", False):
            self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """`with archive.transaction():` runs the block as one write transaction."""
        if self.backend == "postgresql":
            return _PgTransaction(self.db)
        return _SqliteTransaction(self.db, self.path)

    def _retrying(self, work: Callable[[], T]) -> T:
        """`work()` (one transaction), run again when PostgreSQL rolled it back to break a
        deadlock with another writer."""
        for attempt in range(RETRIES):
            try:
                return work()
            except Exception as exc:
                if not is_retryable(exc) or attempt == RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ writing

    def system_id(self, system: System) -> int:
        """The id of `system`, added to the archive if it is new."""
        found = self.find_system(system)
        if found is not None:
            return found
        try:
            rows = self.db.execute(
                "INSERT INTO systems (model, revision, backend, settings) VALUES (?,?,?,?)"
                " ON CONFLICT DO NOTHING RETURNING id", _system_row(system)).fetchall()
        except sqlite3.OperationalError as exc:
            raise archive_error(self.path, exc) or exc from None
        if rows:
            return int(rows[0][0])
        found = self.find_system(system)  # another writer stored it meanwhile
        if found is None:
            raise AssertionError(f"system {system.signature} neither stored nor found")
        return found

    def find_system(self, system: System) -> int | None:
        """The id of `system` if anything was stored by it (reads never add systems)."""
        row = self.db.execute(
            "SELECT id FROM systems WHERE model=? AND revision=? AND backend=? AND settings=?",
            _system_row(system)).fetchone()
        return row[0] if row else None

    def save_document(self, document: Document, pairs: Iterable[SentencePair],
                      system: System, kind: Kind = "mt") -> int:
        """Store a document, its sentences and their translations, all or nothing.

        A document already stored (same text) is reused; its sentences are not duplicated, and a
        translation identical to one already stored by the same system is not added again.
        Several writers may store the same document at once: one stores it, the others find
        it stored (unique keys with ON CONFLICT, not a look before inserting).
        """
        pairs = list(pairs)

        def store() -> int:
            with self.transaction():
                doc_id = self.find_document(document.sha256)
                if doc_id is None and (doc_id := self._same_sentences(pairs)) is not None:
                    self._adopt(doc_id, document, pairs)
                if doc_id is None:
                    doc_id = self._upsert_document(document)
                segment_ids = self._upsert_segments(doc_id, pairs)
                system_id = self.system_id(system)
                ids = self._insert_translations(
                    [self._translation_values(segment_ids[pair.index], system_id, kind, pair)
                     for pair in pairs],
                    unless="o.segment_id = n.segment_id AND o.kind = n.kind AND o.en = n.en"
                           " AND o.kind != 'mt'")
                stored = [(id_, pair) for id_, pair in zip(ids, pairs, strict=True) if id_]
                self._add_details(stored)
            return doc_id

        return self._retrying(store)

    def _upsert_document(self, document: Document, *, new: bool = False) -> int:
        """The document with this text, stored if it is not; with `new` always a new one (two
        imported documents made of the same sentences are still two)."""
        sha256 = document.sha256
        if not new and (found := self.find_document(sha256)) is not None:
            return found
        columns = [str(v) if (v := document.metadata.get(c)) not in (None, "") else None
                   for c in METADATA_COLUMNS]
        number = 0
        while True:
            rows = self.db.execute(
                "INSERT INTO documents (path, title, sha256, text, metadata, created,"
                f" {', '.join(METADATA_COLUMNS)}) VALUES (?,?,?,?,?,?{',?' * len(columns)})"
                " ON CONFLICT (sha256) DO NOTHING RETURNING id",
                (document.path, document.title, sha256, document.text,
                 json.dumps(document.metadata, ensure_ascii=False), _now(), *columns),
            ).fetchall()
            if rows:
                return int(rows[0][0])
            if not new:  # another writer stored the same text meanwhile
                found = self.find_document(sha256)
                if found is not None:
                    return found
            number += 1
            sha256 = sha256_text(f"{document.text}\x00{number}")

    def _upsert_segments(self, doc_id: int, pairs: list[SentencePair]) -> dict[int, int]:
        rows = [(doc_id, p.index, p.paragraph, p.start, p.end, p.ru, normalize_source(p.ru),
                 lemma_text(p.ru)) for p in pairs]
        if self.backend == "postgresql":  # with the search index's lexemes (pg_search)
            # one statement for the document's sentences: the server's cost per statement is
            # most of the cost of a row
            self.db.execute(
                'INSERT INTO segments (doc_id, idx, paragraph, start, "end", ru, ru_norm,'
                " ru_lemmas, ru_search) SELECT ?, v.idx, v.paragraph, v.start, v.\"end\", v.ru,"
                " v.ru_norm, v.ru_lemmas, CAST(v.ru_search AS tsvector)"
                f" FROM {_JSON_ROWS} v(number INTEGER, idx INTEGER, paragraph INTEGER,"
                ' start INTEGER, "end" INTEGER, ru TEXT, ru_norm TEXT, ru_lemmas TEXT,'
                " ru_search TEXT) ORDER BY v.number ON CONFLICT DO NOTHING",
                [doc_id, _json_rows(
                    dict(zip(("idx", "paragraph", "start", "end", "ru", "ru_norm", "ru_lemmas"),
                             r[1:], strict=True), ru_search=pg_search.segment_vector(r[6], r[7]))
                    for r in rows)])
        else:
            self.db.executemany(
                'INSERT INTO segments (doc_id, idx, paragraph, start, "end", ru, ru_norm,'
                " ru_lemmas) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", rows)
        rows = self.db.execute("SELECT idx, id FROM segments WHERE doc_id = ?", (doc_id,))
        return {row[0]: row[1] for row in rows}

    def _insert_translation(self, *, unless: str = "", **values: Any) -> int | None:
        """Store one translation (`values`: its columns) unless a stored one `o` matches
        `unless` (SQL on `o` and the new row `n`), or it repeats a machine translation (the
        unique index); its id, or None when nothing was stored."""
        return self._insert_translations([values], unless)[0]

    def _insert_translations(self, rows: Sequence[dict[str, Any]], unless: str = ""
                             ) -> list[int | None]:
        """`_insert_translation` of each row (the same columns), in order. The one place
        that writes translations: on PostgreSQL it stores the English lemma keys and the
        search index's lexemes (corpus.pg_search; SQLite's triggers index a translation
        themselves)."""
        stamp = _now()
        rows = [{**values, "created": stamp} for values in rows]
        if self.backend == "postgresql":
            for values in rows:
                en = values["en"]  # None breaks NOT NULL below, as on SQLite
                values["en_lemmas"] = english_lemma_text(en) if isinstance(en, str) else ""
                values["en_search"] = pg_search.translation_vector(en, values["en_lemmas"]) \
                    if isinstance(en, str) else ""
        columns = list(rows[0]) if rows else []
        where = f"NOT EXISTS (SELECT 1 FROM translations o WHERE {unless})" if unless \
            else "TRUE"

        def insert(new_rows: str, returning: str = "id", order: str = "") -> str:
            return (f"INSERT INTO translations ({', '.join(columns)}) SELECT "
                    + ", ".join(f"CAST(n.{c} AS tsvector)" if c == "en_search" else f"n.{c}"
                                for c in columns)
                    + f" FROM {new_rows} WHERE {where}{order} ON CONFLICT DO NOTHING"
                    f" RETURNING {returning}")  # not OR IGNORE: NOT NULL must fail

        segments = [values["segment_id"] for values in rows]
        if self.backend == "postgresql" and len(rows) > 1 and len(set(segments)) == len(rows):
            # one statement for all (the server's cost per statement is most of the cost of
            # a row); the ids told apart by their sentences
            types = ", ".join(f"{c} {_PG_TYPES.get(c, 'TEXT')}" for c in columns)
            found = {row[0]: row[1] for row in self.db.execute(
                insert(f"{_JSON_ROWS} n(number INTEGER, {types})", "segment_id, id",
                       " ORDER BY n.number"), [_json_rows(rows)]).fetchall()}
            return [found.get(segment) for segment in segments]
        one_row = insert("(SELECT " + ", ".join(
            (f"CAST(? AS {_PG_TYPES[c]})" if c in _PG_TYPES else "?") + f" AS {c}"
            for c in columns) + ") n")
        return [int(row[0]) if row else None for row in (
            next(iter(self.db.execute(one_row, list(values.values())).fetchall()), None)
            for values in rows)]  # fetchall: SQLite ends the statement

    def _translation_values(self, segment_id: int, system_id: int | None, kind: Kind,
                            pair: SentencePair) -> dict[str, Any]:
        """The columns of a translated sentence's translation."""
        if pair.source_id is not None:
            # A copy from memory is what its source is: a human's post-edit keeps no system,
            # an earlier machine translation keeps the system that made it.
            kind, system_id = self.db.execute(
                "SELECT kind, system_id FROM translations WHERE id = ?",
                (pair.source_id,)).fetchone()
        return dict(segment_id=segment_id, system_id=system_id, kind=kind, en=pair.en,
                    origin=pair.origin, source_translation_id=pair.source_id, score=pair.score)

    def _add_details(self, stored: Sequence[tuple[int, SentencePair]]) -> None:
        """The term hits, QA flags and alternatives of translations just stored (id, pair):
        one statement each for a whole document (on PostgreSQL a round trip each)."""
        self.db.executemany(
            'INSERT INTO term_hits (translation_id, ru, en, status, start, "end")'
            " VALUES (?,?,?,?,?,?)",
            [(id_, t.ru, t.en, t.status, t.start, t.end) for id_, p in stored for t in p.terms],
        )
        self.db.executemany(
            'INSERT INTO qa_flags (translation_id, "check", severity, message) VALUES (?,?,?,?)',
            [(id_, f.check, f.severity, f.message) for id_, p in stored for f in p.flags],
        )
        self.db.executemany(
            "INSERT INTO translation_alternatives (translation_id, kind, en, score)"
            " VALUES (?,?,?,?)",
            [(id_, a.kind, a.en, a.score) for id_, p in stored for a in p.alternatives],
        )

    # ------------------------------------------------------------ reading

    def documents(self) -> list[DocumentInfo]:
        rows = self.db.execute(
            "SELECT d.id, d.path, d.title, d.sha256, d.created,"
            " (SELECT count(*) FROM segments s WHERE s.doc_id = d.id) AS n,"
            f" {', '.join(f'd.{c}' for c in METADATA_COLUMNS)}"
            " FROM documents d ORDER BY d.id"
        )
        return [DocumentInfo(*r) for r in rows]

    def document_with_url(self, url: str) -> int | None:
        """The first document fetched from `url` (as asked for, before redirects), if any."""
        row = self.db.execute("SELECT min(id) FROM documents WHERE url = ?", (url,)).fetchone()
        return row[0]

    def document(self, doc_id: int) -> Document:
        row = self.db.execute(
            "SELECT id, path, title, text, metadata FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            raise ArchiveError(f"{self.path}: no document {doc_id}; `ruen list` shows them.")
        return Document(path=row["path"], title=row["title"], text=row["text"],
                        metadata=json.loads(row["metadata"]), id=row["id"])

    def find_document(self, sha256: str) -> int | None:
        row = self.db.execute("SELECT id FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def pairs(self, doc_id: int | None = None, system: System | None = None, *,
              kind: Selection = "current", fallback_reference: bool = False
              ) -> Iterator[SentencePair]:
        """Stored sentences with their translations, in document order.

        `kind` "current": the newest post-edit, else the newest machine translation (of
        `system`, when given), else with `fallback_reference` the newest reference; sentences
        with none of these are skipped. "mt", "post-edit", "reference": every translation of
        that kind; "all": every translation, oldest first within a sentence.
        """
        for _, pair in self.current_translations(doc_id, system, kind=kind,
                                                 fallback_reference=fallback_reference):
            yield pair

    def current_translations(self, doc_id: int | None = None, system: System | None = None,
                             *, kind: Selection = "current", fallback_reference: bool = False
                             ) -> Iterator[tuple[int, SentencePair]]:
        """As `pairs`, each with the id of its translation (to attach QA flags to it)."""
        if kind not in SELECTIONS:
            raise ValueError(f"unknown kind {kind!r}")
        conditions: list[str] = []  # on the translations t, in the order of `params`
        params: list[object] = []
        if system is not None:
            conditions.append("(t.kind != 'mt' OR t.system_id = ?)")
            params.append(self.find_system(system))  # None: human translations only
        if kind == "current":
            if not fallback_reference:
                conditions.append("t.kind != 'reference'")
            join = f"""t.id = (
                SELECT t.id FROM translations t
                WHERE t.segment_id = s.id{"".join(" AND " + c for c in conditions)}
                ORDER BY {CURRENT_ORDER}, t.id DESC LIMIT 1)"""
        else:
            if kind != "all":
                conditions.append("t.kind = ?")
                params.append(kind)
            join = " AND ".join(["t.segment_id = s.id", *conditions])
        where = ""
        if doc_id is not None:
            where = "WHERE s.doc_id = ?"
            params.append(doc_id)
        sql = f"""
            SELECT s.doc_id, s.idx, s.paragraph, s.start, s."end", s.ru, t.id AS tid, t.en,
                   t.kind, t.origin, t.source_translation_id AS source, t.score,
                   y.model, y.revision, y.backend, y.settings
            FROM segments s
            JOIN translations t ON {join}
            LEFT JOIN systems y ON y.id = t.system_id
            {where}
            ORDER BY s.doc_id, s.idx, t.id
        """
        for row in self.db.execute(sql, params).fetchall():
            yield row["tid"], SentencePair(
                doc=row["doc_id"], index=row["idx"], paragraph=row["paragraph"],
                ru=row["ru"], en=row["en"], origin=row["origin"], start=row["start"],
                end=row["end"], terms=self._terms(row["tid"]), flags=self._flags(row["tid"]),
                kind=row["kind"], source_id=row["source"], system=signature_of(row),
                score=row["score"],
            )

    def references(self, doc_id: int) -> dict[int, str]:
        """The newest imported reference translation of each sentence of a document, by index."""
        self.document(doc_id)
        rows = self.db.execute(
            "SELECT s.idx, t.en FROM segments s JOIN translations t ON t.segment_id = s.id"
            " WHERE s.doc_id = ? AND t.kind = 'reference' ORDER BY t.id", (doc_id,))
        return {idx: en for idx, en in rows}  # later rows win: the newest

    def replace_flags(self, flags: Mapping[int, Sequence[Flag]]) -> None:
        """Set the QA flags of translations (by id) to these, replacing what was stored."""
        with self.transaction():
            for translation_id, found in flags.items():
                self.db.execute("DELETE FROM qa_flags WHERE translation_id = ?",
                                (translation_id,))
                self.db.executemany(
                    'INSERT INTO qa_flags (translation_id, "check", severity, message)'
                    " VALUES (?,?,?,?)",
                    [(translation_id, f.check, f.severity, f.message) for f in found])

    def add_eval_run(self, signature: str, scores: Mapping[str, object]) -> int:
        """Store an evaluation (`scores`: JSON-able, e.g. `EvalResult.as_json()`)."""
        with self.transaction():
            rows = self.db.execute(
                "INSERT INTO eval_runs (created, signature, scores) VALUES (?,?,?) RETURNING id",
                (_now(), signature, json.dumps(scores, ensure_ascii=False, sort_keys=True))
            ).fetchall()
        return int(rows[0][0])

    def eval_runs(self) -> list[EvalRun]:
        rows = self.db.execute("SELECT id, created, signature, scores FROM eval_runs ORDER BY id")
        return [EvalRun(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def eval_run(self, run_id: int) -> EvalRun:
        row = self.db.execute("SELECT id, created, signature, scores FROM eval_runs WHERE id = ?",
                              (run_id,)).fetchone()
        if row is None:
            raise ArchiveError(f"{self.path}: no eval run {run_id}; `ruen eval runs` lists them.")
        return EvalRun(row[0], row[1], row[2], json.loads(row[3]))

    def _terms(self, translation_id: int) -> tuple[TermStatus, ...]:
        rows = self.db.execute(
            'SELECT ru, en, status, start, "end" FROM term_hits WHERE translation_id = ?'
            f" ORDER BY start, {self._stored_order}", (translation_id,))
        return tuple(TermStatus(r[0], r[1], r[2], r[3], r[4]) for r in rows)

    def _flags(self, translation_id: int) -> tuple[Flag, ...]:
        rows = self.db.execute(
            'SELECT "check", severity, message FROM qa_flags WHERE translation_id = ?'
            f" ORDER BY {self._stored_order}", (translation_id,))
        return tuple(Flag(r[0], r[1], r[2]) for r in rows)



class _SqliteTransaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (KeyboardInterrupt included).
    A failure the user can act on (disk full, read-only, locked) becomes an `ArchiveError`."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise archive_error(self.path, exc) or exc from None

    def __exit__(self, exc_type: object, exc: BaseException | None, *rest: object) -> None:
        failure = exc
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.OperationalError as commit_error:
                failure = commit_error
        if self.db.in_transaction:  # SQLite rolls some failures (a full disk) back by itself
            self.db.execute("ROLLBACK")
        if isinstance(failure, sqlite3.OperationalError):
            error = archive_error(self.path, failure)
            if error is not None:
                raise error from None
        if failure is not exc:
            raise failure  # type: ignore[misc]


class _PgTransaction:
    """BEGIN ... COMMIT, or ROLLBACK on any exception. Read committed: readers are never
    blocked, and a writer waits only for another writer storing the same keys. A connection
    lost on the way has rolled the transaction back on the server; the ArchiveError saying so
    comes from the connection (corpus.db)."""

    def __init__(self, db: PgConnection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: BaseException | None, *rest: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
            return
        if not self.db.broken and self.db.in_transaction:
            with contextlib.suppress(ArchiveError):  # died now: the server rolls back
                self.db.execute("ROLLBACK")
            # the exception in the block goes on


_Transaction = _SqliteTransaction | _PgTransaction


def _system_row(system: System) -> tuple[str, str, str, str]:
    return (system.model, system.revision, system.backend, system.settings_json)


def _is_busy(exc: sqlite3.Error) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def archive_error(path: Path, exc: sqlite3.Error) -> ArchiveError | None:
    """The one-line explanation of an SQLite failure a user can do something about, else None
    (anything else is a bug and keeps its traceback)."""
    message = str(exc)
    if "database or disk is full" in message or "disk I/O error" in message:
        return ArchiveError(f"{path}: the disk is full or failing ({message}); the current "
                            "document was not stored, everything stored before is intact. "
                            "Free some space and run the same command again.")
    if "readonly database" in message:
        return ArchiveError(f"{path}: the archive is read-only; check the permissions of the "
                            "file and of its folder (SQLite writes beside it), or use "
                            "--no-archive. Nothing was stored.")
    if _is_busy(exc):
        return ArchiveError(f"{path}: another program kept the archive locked for more than "
                            f"{BUSY_TIMEOUT_MS // 1000} s; nothing was stored. Run the command "
                            "again when it has finished.")
    if "unable to open database file" in message:
        return ArchiveError(f"{path}: cannot open the archive; check that its folder exists and "
                            "that you may write in it.")
    return None
