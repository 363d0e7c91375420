"""The bilingual archive: documents, their sentences and every translation made of them.

SQLite in WAL mode, one transaction per document, schema version in `PRAGMA user_version`
with numbered migrations. All SQL of ruen lives in `corpus/`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import platformdirs

from corpus.errors import ArchiveError, ArchiveOutdated, EditConflict
from corpus.lemma import english_lemma_text, lemma_text
from corpus.text import normalize_source
from corpus.types import Document, Flag, Kind, SentencePair, System, TermStatus, sha256_text

BUSY_TIMEOUT_MS = 30_000
Selection = Literal["current", "mt", "post-edit", "reference", "all"]
SELECTIONS: tuple[Selection, ...] = ("current", "mt", "post-edit", "reference", "all")
# The current translation: post-edits before machine translations before references.
CURRENT_ORDER = "CASE t.kind WHEN 'post-edit' THEN 0 WHEN 'mt' THEN 1 ELSE 2 END"


def default_archive_path() -> Path:
    """`$RUEN_DB`, else `archive.db` in the per-user data directory."""
    env = os.environ.get("RUEN_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("ruen", appauthor=False)) / "archive.db"


def open_archive(path: str | Path | None = None, *, readonly: bool = True) -> Archive:
    """The archive at `path` (default: `default_archive_path()`). One made by an older ruen is
    upgraded first (keeps everything), so that a command that only reads works on it too."""
    path = path or default_archive_path()
    try:
        return Archive(path, readonly=readonly)
    except ArchiveOutdated:
        Archive(path).close()
        return Archive(path, readonly=readonly)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- migrations


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction (`executescript` would commit
    first). Statements are split where SQLite says one is complete, so triggers stay whole."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        db.execute(statement)


def _migration_1(db: sqlite3.Connection) -> None:
    run_script(db,
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            title TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL
        );
        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            paragraph INTEGER NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            ru TEXT NOT NULL,
            ru_norm TEXT NOT NULL,
            UNIQUE (doc_id, idx)
        );
        CREATE INDEX segments_ru_norm ON segments(ru_norm);
        CREATE TABLE systems (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            revision TEXT NOT NULL,
            backend TEXT NOT NULL,
            settings TEXT NOT NULL,
            UNIQUE (model, revision, backend, settings)
        );
        CREATE TABLE translations (
            id INTEGER PRIMARY KEY,
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            system_id INTEGER REFERENCES systems(id),
            kind TEXT NOT NULL CHECK (kind IN ('mt', 'post-edit', 'reference')),
            en TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT 'mt',
            created TEXT NOT NULL
        );
        CREATE INDEX translations_segment ON translations(segment_id, kind);
        CREATE UNIQUE INDEX translations_unique_mt
            ON translations(segment_id, system_id, en) WHERE kind = 'mt';
        CREATE TABLE term_hits (
            translation_id INTEGER NOT NULL REFERENCES translations(id) ON DELETE CASCADE,
            ru TEXT NOT NULL,
            en TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'enforced', 'missing')),
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL
        );
        CREATE INDEX term_hits_translation ON term_hits(translation_id);
        CREATE TABLE qa_flags (
            translation_id INTEGER NOT NULL REFERENCES translations(id) ON DELETE CASCADE,
            "check" TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX qa_flags_translation ON qa_flags(translation_id);
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            created TEXT NOT NULL,
            signature TEXT NOT NULL,
            scores TEXT NOT NULL
        );
        """
    )


def _fts_triggers(table: str, fts: str, columns: tuple[str, ...]) -> str:
    """Triggers keeping an external-content FTS5 table in step with its content table."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts} ({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts} (rowid, {cols}) VALUES (new.id, {new});"
    return f"""
        CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END;
        CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END;
        CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END;
    """


def _migration_2(db: sqlite3.Connection) -> None:
    """Full-text search: Russian by surface form (`ru_norm`) and by lemma (`ru_lemmas`, one
    key per token, see corpus.lemma), English stemmed (porter) and exact."""
    db.execute("ALTER TABLE segments ADD COLUMN ru_lemmas TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, ru FROM segments").fetchall()
    if rows:
        db.executemany("UPDATE segments SET ru_lemmas = ? WHERE id = ?",
                       [(lemma_text(ru), id_) for id_, ru in rows])
    # remove_diacritics 0: the default would fold й into и; ё is folded by us (corpus.lemma.fold).
    run_script(db, f"""
        CREATE VIRTUAL TABLE segments_fts USING fts5(ru_norm, ru_lemmas, content='segments',
            content_rowid='id', tokenize='unicode61 remove_diacritics 0');
        CREATE VIRTUAL TABLE translations_fts USING fts5(en, content='translations',
            content_rowid='id', tokenize='porter unicode61');
        CREATE VIRTUAL TABLE translations_fts_exact USING fts5(en, content='translations',
            content_rowid='id', tokenize='unicode61');
        {_fts_triggers("segments", "segments_fts", ("ru_norm", "ru_lemmas"))}
        {_fts_triggers("translations", "translations_fts", ("en",))}
        {_fts_triggers("translations", "translations_fts_exact", ("en",))}
        INSERT INTO segments_fts (segments_fts) VALUES ('rebuild');
        INSERT INTO translations_fts (translations_fts) VALUES ('rebuild');
        INSERT INTO translations_fts_exact (translations_fts_exact) VALUES ('rebuild');
        """)


#: The SQL function (registered on every connection) that makes the English lemma keys.
ENGLISH_LEMMAS_SQL = "ruen_english_lemmas"


def _migration_6(db: sqlite3.Connection) -> None:
    """English search by lemma (corpus.lemma.english_key, then porter): `translations_fts`
    indexes the lemma keys of each translation instead of its words. Its content is a view
    computing the keys through ENGLISH_LEMMAS_SQL (registered on every connection), so that
    every statement writing a translation is indexed without naming the keys, and the keys are
    not stored twice. (IF EXISTS: a migration rebuilding `translations` may have dropped the old
    triggers already.)"""
    run_script(db, f"""
        DROP TRIGGER IF EXISTS translations_fts_insert;
        DROP TRIGGER IF EXISTS translations_fts_delete;
        DROP TRIGGER IF EXISTS translations_fts_update;
        DROP TABLE IF EXISTS translations_fts;
        CREATE VIEW translations_en_lemmas AS
            SELECT id, {ENGLISH_LEMMAS_SQL}(en) AS en_lemmas FROM translations;
        CREATE VIRTUAL TABLE translations_fts USING fts5(en_lemmas,
            content='translations_en_lemmas', content_rowid='id',
            tokenize='porter unicode61');
        CREATE TRIGGER translations_fts_insert AFTER INSERT ON translations BEGIN
            INSERT INTO translations_fts (rowid, en_lemmas)
            VALUES (new.id, {ENGLISH_LEMMAS_SQL}(new.en)); END;
        CREATE TRIGGER translations_fts_delete AFTER DELETE ON translations BEGIN
            INSERT INTO translations_fts (translations_fts, rowid, en_lemmas)
            VALUES ('delete', old.id, {ENGLISH_LEMMAS_SQL}(old.en)); END;
        CREATE TRIGGER translations_fts_update AFTER UPDATE OF en ON translations BEGIN
            INSERT INTO translations_fts (translations_fts, rowid, en_lemmas)
            VALUES ('delete', old.id, {ENGLISH_LEMMAS_SQL}(old.en));
            INSERT INTO translations_fts (rowid, en_lemmas)
            VALUES (new.id, {ENGLISH_LEMMAS_SQL}(new.en)); END;
        INSERT INTO translations_fts (translations_fts) VALUES ('rebuild');
        """)


# What a document says about itself (`Document.metadata`) that is filtered and shown: columns
# of their own, filled from the metadata when a document is stored.
METADATA_COLUMNS = ("url", "host", "site", "author", "published", "language")


def _migration_3(db: sqlite3.Connection) -> None:
    """Document metadata as columns (source URL and host, site name, author, publication date
    YYYY-MM-DD, language), indexed for `search --since/--until/--site` and for not fetching
    a URL twice. Documents stored before have none of these (ruen read only files then)."""
    for column in METADATA_COLUMNS:
        db.execute(f"ALTER TABLE documents ADD COLUMN {column} TEXT")
    run_script(db, """
        CREATE INDEX documents_url ON documents(url) WHERE url IS NOT NULL;
        CREATE INDEX documents_dated ON documents(coalesce(published, created));
        CREATE INDEX documents_host ON documents(host);
        """)


def _migration_4(db: sqlite3.Connection) -> None:
    """Model confidence: each machine translation's length-normalised log-probability
    (NULL for post-edits, references, memory reuse and copies, and for older translations)."""
    db.execute("ALTER TABLE translations ADD COLUMN score REAL")


def _migration_5(db: sqlite3.Connection) -> None:
    """Provenance of translations reused from memory: `source_translation_id` is the stored
    translation a reused one copies (origin 'tm'). Earlier reuses were stored as machine
    translations of the running system; each gets the oldest earlier identical translation of
    an identical sentence as its source, and a copied post-edit becomes a post-edit again
    (no system), so the archive no longer credits the model with a human's sentence."""
    db.execute("ALTER TABLE translations ADD COLUMN source_translation_id INTEGER"
               " REFERENCES translations(id) ON DELETE SET NULL")
    db.execute("CREATE INDEX translations_source ON translations(source_translation_id)")
    reused = db.execute(
        """SELECT t.id, (SELECT o.id FROM translations o JOIN segments os ON os.id = o.segment_id
                          WHERE os.ru_norm = s.ru_norm AND o.en = t.en AND o.id < t.id
                            AND o.kind != 'reference'
                          ORDER BY o.kind = 'post-edit' DESC, o.id LIMIT 1)
           FROM translations t JOIN segments s ON s.id = t.segment_id
           WHERE t.origin = 'tm'""").fetchall()
    for translation_id, source_id in reused:
        if source_id is None:
            continue
        db.execute(
            """UPDATE translations SET source_translation_id = ?,
                   kind = (SELECT kind FROM translations WHERE id = ?),
                   system_id = (SELECT system_id FROM translations WHERE id = ?)
               WHERE id = ?""", (source_id, source_id, source_id, translation_id))


def _migration_7(db: sqlite3.Connection) -> None:
    """Other translations the model made of a sentence (see `corpus.types.Alternative`), kept
    beside the translation stored: the unconstrained output of an enforced sentence, or a
    rejected enforced one. Shown by `history`."""
    run_script(db, """
        CREATE TABLE translation_alternatives (
            id INTEGER PRIMARY KEY,
            translation_id INTEGER NOT NULL REFERENCES translations(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            en TEXT NOT NULL,
            score REAL NOT NULL
        );
        CREATE INDEX translation_alternatives_translation
            ON translation_alternatives (translation_id);
        """)


def _migration_8(db: sqlite3.Connection) -> None:
    """Who made each post-edit (`ruen edit --editor`, `ruen serve --editor`); NULL for every
    other translation and for post-edits stored before."""
    db.execute("ALTER TABLE translations ADD COLUMN editor TEXT")


# Migration N brings an archive from user_version N-1 to N. Append only.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migration_1, _migration_2, _migration_3, _migration_4, _migration_5, _migration_6,
    _migration_7, _migration_8]
SCHEMA_VERSION = len(MIGRATIONS)


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
class MemoryHit:
    """A stored translation of an identical sentence, found by translation memory."""

    en: str
    translation_id: int  # the original (a copy of a copy leads back to the first one)
    kind: Kind


@dataclass(frozen=True)
class EvalRun:
    """A stored evaluation: when, the metrics' signatures, and what was measured."""

    id: int
    created: str
    signature: str
    scores: dict[str, object]


@dataclass(frozen=True)
class ImportOutcome:
    doc_id: int
    new_document: bool
    added: int  # translations stored (identical ones already there are skipped)
    kinds: tuple[str, ...] = ()  # the kinds of those stored, in the order first stored


class Archive:
    """A ruen archive on disk. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
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
                self._open(readonly)
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

    def _open(self, readonly: bool) -> None:
        uri = f"file:{self.path}?mode=ro" if readonly else f"file:{self.path}"
        self.db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                  isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.create_function(ENGLISH_LEMMAS_SQL, 1, english_lemma_text, deterministic=True)
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA foreign_keys = ON")
        # Checked before switching to WAL, which would change another program's database.
        version = self._schema_version()
        if not readonly:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
        self._migrate(version, readonly)
        if not readonly:
            # A write rolled back at once: a read-only file or folder is reported now, before
            # anything is translated, not when the first document is to be stored.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            finally:
                self.db.execute("ROLLBACK")

    # ------------------------------------------------------------ lifecycle

    def _schema_version(self) -> int:
        """The archive's schema version; an error for other files and newer versions."""
        # One statement, so one snapshot: another process may be creating the archive.
        version, tables = self.db.execute(
            "SELECT (SELECT user_version FROM pragma_user_version),"
            " (SELECT count(*) FROM sqlite_master WHERE type = 'table')").fetchone()
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.path}: archive schema version {version} is newer than this ruen "
                f"understands ({SCHEMA_VERSION}); upgrade ruen."
            )
        if version == 0 and tables:
            raise ArchiveError(f"{self.path}: an SQLite file, but not a ruen archive.")
        return int(version)

    def _migrate(self, version: int, readonly: bool) -> None:
        if version == SCHEMA_VERSION:
            return
        if readonly:
            raise ArchiveOutdated(f"{self.path}: archive needs upgrading; open it writable once.")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction():  # each migration whole or not at all
                # Another process opening the same archive may have run it meanwhile.
                if self.db.execute("PRAGMA user_version").fetchone()[0] > number:
                    continue
                MIGRATIONS[number](self.db)
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    def close(self) -> None:
        if hasattr(self, "db"):  # absent when the file could not even be opened
            self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """`with archive.transaction():` runs the block as one write transaction."""
        return _Transaction(self.db, self.path)

    # ------------------------------------------------------------ writing

    def system_id(self, system: System) -> int:
        """The id of `system`, added to the archive if it is new."""
        found = self.find_system(system)
        if found is not None:
            return found
        try:
            cursor = self.db.execute(
                "INSERT INTO systems (model, revision, backend, settings) VALUES (?,?,?,?)",
                _system_row(system))
        except sqlite3.OperationalError as exc:
            raise archive_error(self.path, exc) or exc from None
        return int(cursor.lastrowid)

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
        """
        pairs = list(pairs)
        with self.transaction():
            doc_id = self.find_document(document.sha256)
            if doc_id is None and (doc_id := self._same_sentences(pairs)) is not None:
                self._adopt(doc_id, document, pairs)
            if doc_id is None:
                doc_id = self._upsert_document(document)
            segment_ids = self._upsert_segments(doc_id, pairs)
            system_id = self.system_id(system)
            for pair in pairs:
                self._add_translation(segment_ids[pair.index], system_id, kind, pair)
        return doc_id

    def _upsert_document(self, document: Document, *, new: bool = False) -> int:
        """The document with this text, stored if it is not; with `new` always a new one (two
        imported documents made of the same sentences are still two)."""
        sha256 = document.sha256
        found = self.db.execute("SELECT id FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        if found and not new:
            return found[0]
        number = 0
        while found:
            number += 1
            sha256 = sha256_text(f"{document.text}\x00{number}")
            found = self.db.execute("SELECT 1 FROM documents WHERE sha256 = ?",
                                    (sha256,)).fetchone()
        columns = [str(v) if (v := document.metadata.get(c)) not in (None, "") else None
                   for c in METADATA_COLUMNS]
        cursor = self.db.execute(
            "INSERT INTO documents (path, title, sha256, text, metadata, created,"
            f" {', '.join(METADATA_COLUMNS)}) VALUES (?,?,?,?,?,?{',?' * len(columns)})",
            (document.path, document.title, sha256, document.text,
             json.dumps(document.metadata, ensure_ascii=False), _now(), *columns),
        )
        return int(cursor.lastrowid)

    def _upsert_segments(self, doc_id: int, pairs: list[SentencePair]) -> dict[int, int]:
        self.db.executemany(
            'INSERT INTO segments (doc_id, idx, paragraph, start, "end", ru, ru_norm, ru_lemmas)'
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            [(doc_id, p.index, p.paragraph, p.start, p.end, p.ru, normalize_source(p.ru),
              lemma_text(p.ru)) for p in pairs],
        )
        rows = self.db.execute("SELECT idx, id FROM segments WHERE doc_id = ?", (doc_id,))
        return {row[0]: row[1] for row in rows}

    def _add_translation(self, segment_id: int, system_id: int | None, kind: Kind,
                         pair: SentencePair) -> int | None:
        if pair.source_id is not None:
            # A copy from memory is what its source is: a human's post-edit keeps no system,
            # an earlier machine translation keeps the system that made it.
            kind, system_id = self.db.execute(
                "SELECT kind, system_id FROM translations WHERE id = ?",
                (pair.source_id,)).fetchone()
        cursor = self.db.execute(
            "INSERT INTO translations (segment_id, system_id, kind, en, origin, created,"
            " source_translation_id, score) SELECT ?,?,?,?,?,?,?,? WHERE NOT EXISTS (SELECT 1"
            " FROM translations WHERE segment_id = ? AND kind = ? AND en = ? AND kind != 'mt')"
            " ON CONFLICT DO NOTHING",  # not OR IGNORE: NOT NULL must fail
            (segment_id, system_id, kind, pair.en, pair.origin, _now(), pair.source_id,
             pair.score, segment_id, kind, pair.en),
        )
        if not cursor.rowcount:
            return None
        translation_id = int(cursor.lastrowid)
        self.db.executemany(
            'INSERT INTO term_hits (translation_id, ru, en, status, start, "end")'
            " VALUES (?,?,?,?,?,?)",
            [(translation_id, t.ru, t.en, t.status, t.start, t.end) for t in pair.terms],
        )
        self.db.executemany(
            'INSERT INTO qa_flags (translation_id, "check", severity, message) VALUES (?,?,?,?)',
            [(translation_id, f.check, f.severity, f.message) for f in pair.flags],
        )
        self.db.executemany(
            "INSERT INTO translation_alternatives (translation_id, kind, en, score)"
            " VALUES (?,?,?,?)",
            [(translation_id, a.kind, a.en, a.score) for a in pair.alternatives],
        )
        return translation_id

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
                kind=row["kind"], source_id=row["source"], system=_signature(row),
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
            cursor = self.db.execute(
                "INSERT INTO eval_runs (created, signature, scores) VALUES (?,?,?)",
                (_now(), signature, json.dumps(scores, ensure_ascii=False, sort_keys=True)))
        return int(cursor.lastrowid)

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
            " ORDER BY start", (translation_id,))
        return tuple(TermStatus(r[0], r[1], r[2], r[3], r[4]) for r in rows)

    def _flags(self, translation_id: int) -> tuple[Flag, ...]:
        rows = self.db.execute(
            'SELECT "check", severity, message FROM qa_flags WHERE translation_id = ?',
            (translation_id,))
        return tuple(Flag(r[0], r[1], r[2]) for r in rows)

    def translation_memory(self, sources: Iterable[str], system: System
                           ) -> dict[str, MemoryHit]:
        """Stored translations of identical sources (normalised): the newest post-edit, else
        the newest output of `system`. Returns {normalised source: hit}; a hit keeps the id
        of the translation it copies, so that storing it records where it came from."""
        keys = sorted({normalize_source(s) for s in sources})
        found: dict[str, MemoryHit] = {}
        system_id = self.find_system(system)  # None: post-edits only
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
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

    def _original(self, translation_id: int) -> int:
        """The translation a copy was made from, following copies of copies."""
        while True:
            row = self.db.execute("SELECT source_translation_id FROM translations WHERE id = ?",
                                  (translation_id,)).fetchone()
            if row is None or row[0] is None:
                return translation_id
            translation_id = row[0]

    # ------------------------------------------------------------ post-editing and import

    def segment_id(self, doc_id: int, index: int) -> int:
        row = self.db.execute("SELECT id FROM segments WHERE doc_id = ? AND idx = ?",
                              (doc_id, index)).fetchone()
        if row is None:
            self.document(doc_id)  # names a missing document first
            raise ArchiveError(f"{self.path}: document {doc_id} has no sentence {index}; "
                               f"`ruen show {doc_id}` lists them.")
        return row[0]

    def post_edit(self, doc_id: int, index: int, en: str, *, editor: str | None = None,
                  version: int | None = None) -> bool:
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
            self.db.execute(
                "INSERT INTO translations (segment_id, system_id, kind, en, origin, created,"
                " editor) VALUES (?, NULL, 'post-edit', ?, 'post-edit', ?, ?)",
                (segment, en, _now(), editor))
        return True

    def current_version(self, doc_id: int, index: int) -> int:
        """The id of a sentence's current translation (0 when it has none): what an editor
        saw, handed back to `post_edit(version=...)`."""
        segment = self.segment_id(doc_id, index)
        row = self.db.execute(
            f"SELECT t.id FROM translations t WHERE t.segment_id = ?"
            f" ORDER BY {CURRENT_ORDER}, t.id DESC LIMIT 1", (segment,)).fetchone()
        return row[0] if row else 0

    def sentence(self, doc_id: int, index: int) -> str:
        """The Russian of sentence `index` of `doc_id` (an ArchiveError naming what is missing)."""
        segment = self.segment_id(doc_id, index)
        return self.db.execute("SELECT ru FROM segments WHERE id = ?", (segment,)).fetchone()[0]

    def add_post_edits(self, edits: Sequence[tuple[int, int, str]]) -> list[bool]:
        """Store human corrections (doc, index, English), all in one transaction; each becomes
        its sentence's current translation, unless that English is already stored for the
        sentence (as any kind: an unchanged target of a file sent out for post-editing).
        Returns, per edit, whether it was stored."""
        stored = []
        with self.transaction():
            for doc_id, index, en in edits:
                segment = self.segment_id(doc_id, index)
                cursor = self.db.execute(
                    "INSERT INTO translations (segment_id, system_id, kind, en, origin, created)"
                    " SELECT ?, NULL, 'post-edit', ?, 'post-edit', ? WHERE NOT EXISTS"
                    " (SELECT 1 FROM translations WHERE segment_id = ? AND en = ?)",
                    (segment, en, _now(), segment, en))
                stored.append(cursor.rowcount == 1)
        return stored

    def history(self, doc_id: int) -> list[HistoryEntry]:
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
        alternatives: dict[int, list[sqlite3.Row]] = {}
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
                index=r["idx"], ru=r["ru"], en=r["en"], kind=r["kind"], system=_signature(r),
                created=r["created"], current=current[r["sid"]] == r["tid"], id=r["tid"],
                origin=r["origin"], source_id=r["source"], source=source, editor=r["editor"]))
            entries += [HistoryEntry(index=r["idx"], ru=r["ru"], en=a["en"],
                                     kind=f"{r['kind']}, {a['kind']}", system=_signature(r),
                                     created=r["created"], current=False, score=a["score"],
                                     origin="mt")
                        for a in alternatives.get(r["tid"], [])]
        return entries

    def import_document(self, title: str, path: str, pairs: Sequence[SentencePair],
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
        with self.transaction():
            found = self._document_with(sentences, frozenset(exclude))
            if found is None:
                text, placed = _text_of(sentences)
                doc_id = self._upsert_document(
                    Document(path=path, title=title, text=text, metadata={"imported": path}),
                    new=True)
                segment_ids = self._upsert_segments(doc_id, placed)
            else:
                doc_id, segment_ids = found
            added, kinds = 0, dict[str, None]()  # kinds stored, in order
            for p in pairs:
                system_id = self.system_id(system_from_signature(p.system)) if p.system else None
                cursor = self.db.execute(
                    "INSERT INTO translations (segment_id, system_id, kind, en, origin, created,"
                    " score) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM"
                    " translations WHERE segment_id = ? AND kind = ? AND en = ?"
                    " AND system_id IS ?)",
                    (segment_ids[p.index], system_id, p.kind, p.en, p.origin, _now(), p.score,
                     segment_ids[p.index], p.kind, p.en, system_id))
                added += cursor.rowcount
                if cursor.rowcount:
                    kinds[p.kind] = None
        return ImportOutcome(doc_id, found is None, added, tuple(kinds))

    def _document_with(self, pairs: Sequence[SentencePair], exclude: frozenset[int]
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

    def _same_sentences(self, pairs: Sequence[SentencePair]) -> int | None:
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

    def _adopt(self, doc_id: int, document: Document, pairs: Sequence[SentencePair]) -> None:
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
                self.db.execute("UPDATE segments SET ru_lemmas = ? WHERE doc_id = ? AND idx = ?",
                                (lemma_text(p.ru), doc_id, p.index))


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


class _Transaction:
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


def _signature(row: sqlite3.Row) -> str:
    """The signature of a row's LEFT JOINed system (model, revision, backend, settings)."""
    if row["model"] is None:
        return ""
    return System(row["model"], row["revision"], row["backend"],
                  json.loads(row["settings"])).signature


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
