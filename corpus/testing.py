"""Helpers for tests that look inside an archive on either backend (what is really stored),
without going through the API under test."""

from __future__ import annotations

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
