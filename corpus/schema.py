"""The archive's schema on SQLite: numbered migrations, the version in `PRAGMA user_version`.

Migration N brings an archive from version N-1 to N; the same numbers mean the same tables and
columns on PostgreSQL (corpus.pg_schema), where the full-text index differs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from corpus.errors import ArchiveError, ArchiveOutdated
from corpus.lemma import lemma_text

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


def schema_version(db: sqlite3.Connection, name: object) -> int:
    """The archive's schema version; an error for other files and newer versions."""
    # One statement, so one snapshot: another process may be creating the archive.
    version, tables = db.execute(
        "SELECT (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master WHERE type = 'table')").fetchone()
    if version > SCHEMA_VERSION:
        raise ArchiveError(
            f"{name}: archive schema version {version} is newer than this ruen "
            f"understands ({SCHEMA_VERSION}); upgrade ruen."
        )
    if version == 0 and tables:
        raise ArchiveError(f"{name}: an SQLite file, but not a ruen archive.")
    return int(version)


def migrate(db: sqlite3.Connection, name: object, version: int, readonly: bool,
            transaction: Callable[[], Any]) -> None:
    """Bring the archive from `version` to SCHEMA_VERSION, each migration whole or not at
    all (`transaction`: the archive's write transaction)."""
    if version == SCHEMA_VERSION:
        return
    if readonly:
        raise ArchiveOutdated(f"{name}: archive needs upgrading; open it writable once.")
    for number in range(version, SCHEMA_VERSION):
        with transaction():
            # Another process opening the same archive may have run it meanwhile.
            if db.execute("PRAGMA user_version").fetchone()[0] > number:
                continue
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
