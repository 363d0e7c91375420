"""Helpers for tests that look inside an archive on either backend (what is really stored),
without going through the API under test."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from corpus.db import is_url
from corpus.errors import ArchiveError
from corpus.store import Archive


def archive_exists(target: str | Path) -> bool:
    """Whether anything made an archive there (a file; a schema with ruen's tables)."""
    if not is_url(target):
        return Path(target).exists()
    try:
        Archive(target, readonly=True).close()
    except ArchiveError as exc:
        if "no archive here" in str(exc):
            return False
        raise
    return True


def rows(target: str | Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query (`?` placeholders) as plain tuples; SQLite's integrity is
    checked first, as a test that pulled the plug on a write should."""
    with Archive(target, readonly=True) as archive:
        if archive.backend == "sqlite":
            assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [tuple(r) for r in archive.db.execute(sql, params).fetchall()]


def stored_sentences(target: str | Path) -> dict[str, list[tuple[str, int]]]:
    """{document path: [(Russian, number of translations)]} as committed in the archive;
    empty while a process is still creating it."""
    try:
        if not archive_exists(target):
            return {}
        found = rows(target, "SELECT d.path, s.ru, (SELECT count(*) FROM translations t"
                             " WHERE t.segment_id = s.id) FROM documents d JOIN segments s"
                             " ON s.doc_id = d.id ORDER BY d.id, s.idx")
    except ArchiveError:  # the archive is still being created
        return {}
    stored: dict[str, list[tuple[str, int]]] = {}
    for path, ru, translations in found:
        stored.setdefault(path, []).append((ru, translations))
    return stored


def wait_for_documents(target: str | Path, documents: int, process: subprocess.Popen[str],
                       timeout: float) -> None:
    """Wait until `process` has stored `documents` documents (a test then interrupts it);
    fails if it ends first or takes `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while len(stored_sentences(target)) < documents:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the translation never got going"
        time.sleep(0.05)


def count(target: str | Path, table: str) -> int:
    return rows(target, f"SELECT count(*) FROM {table}")[0][0]


def schema_version_of(target: str | Path) -> int:
    """The newest schema version this ruen gives an archive on `target`'s backend."""
    from corpus import pg_schema, schema

    return pg_schema.SCHEMA_VERSION if is_url(target) else schema.SCHEMA_VERSION


def set_schema_version(target: str | Path, version: int) -> None:
    """Mark an archive as made by another ruen (an older or a newer one)."""
    with Archive(target) as archive:
        if archive.backend == "sqlite":
            archive.db.execute(f"PRAGMA user_version = {version}")
        else:
            archive.db.execute("DELETE FROM ruen_schema WHERE version > ?", (version,))
            archive.db.execute("INSERT INTO ruen_schema (version, applied) VALUES (?, 'test')"
                               " ON CONFLICT DO NOTHING", (version,))
