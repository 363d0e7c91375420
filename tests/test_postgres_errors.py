"""A PostgreSQL archive that cannot be reached, refuses us, is not ruen's, or goes away in the
middle of a run: one `error:` line naming the server (never its password), exit 2, and nothing
half-written. Against the real server of the tests (conftest.py), or a port where none is."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from corpus.db import display_name
from corpus.testing import rows
from translate.cli import app

TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_error(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {expected}"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


def _server(url: str) -> tuple[str, int, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 5432, parts.path.lstrip("/")


def test_no_server_on_the_port_is_one_line_without_the_password(runner) -> None:
    port = _free_port()
    url = f"postgresql://desk:s3cret-pw@127.0.0.1:{port}/ruen"
    for args in (["list", "--db", url], ["search", "Хама", "--db", url],
                 ["archive", "copy", url, "/nonexistent/x.db"]):
        result = runner.invoke(app, args)
        _one_error(result, f"postgresql://desk@127.0.0.1:{port}/ruen: no PostgreSQL server "
                           "answers there (connection refused)")
        assert "s3cret" not in result.output


def test_the_url_may_come_from_ruen_db(runner, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("RUEN_DB", f"postgres://desk:pw@127.0.0.1:{port}/ruen")
    _one_error(runner.invoke(app, ["list"]), f"postgresql://desk@127.0.0.1:{port}/ruen: no "
                                             "PostgreSQL server answers there")


def test_a_missing_database_is_named(postgres, runner) -> None:
    url = postgres.url_of("ruen_no_such_database")
    _one_error(runner.invoke(app, ["list", "--db", url]),
               f"{display_name(url)}: the server has no database 'ruen_no_such_database'; "
               "create it first")


def test_an_unknown_user_is_named(postgres, runner) -> None:
    host, port, database = _server(postgres.url)
    url = f"postgresql://ruen_nobody@{host}:{port}/{database}"
    _one_error(runner.invoke(app, ["list", "--db", url]),
               f"postgresql://ruen_nobody@{host}:{port}/{database}: the server knows no user "
               "ruen_nobody")


def test_a_database_of_another_program_is_left_alone(pg_db: str, postgres, runner) -> None:
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    for args in (["list", "--db", pg_db], ["edit", "1", "0", "x", "--db", pg_db]):
        _one_error(runner.invoke(app, args), f"{display_name(pg_db)}: a PostgreSQL database, "
                                             "but not a ruen archive (it has 1 other table(s)")
    with psycopg.connect(pg_db) as connection:
        tables = connection.execute("SELECT table_name FROM information_schema.tables"
                                    " WHERE table_schema = current_schema()").fetchall()
    assert tables == [("people",)]


def test_reading_an_empty_database_says_there_is_no_archive_and_creates_none(
        pg_db: str, runner) -> None:
    result = runner.invoke(app, ["list", "--db", pg_db])
    assert result.exit_code == 2 and "no archive here" in result.stderr
    import psycopg

    with psycopg.connect(pg_db) as connection:
        assert connection.execute("SELECT count(*) FROM information_schema.tables"
                                  " WHERE table_schema = current_schema()").fetchone() == (0,)


def test_the_server_going_away_mid_run_stores_whole_documents_only(
        pg_db: str, postgres, tiny_model: Path, tmp_path: Path,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    """The server ends the archive's connection while `ruen translate` is on its third file:
    one error line naming the server; the documents stored before are whole, the one being
    stored is not there at all."""
    files = []
    for n in range(12):
        path = tmp_path / f"f{n}.txt"
        path.write_text(f"Город номер {n} освобожден. Силы режима отступают.\n\n"
                        f"Мы продолжаем двигаться на юг, к посёлку {n}.\n", encoding="utf-8")
        files.append(str(path))
    process = ruen_process("translate", *files, "--model", str(tiny_model), "--beam", "1",
                           "--no-glossary", "--db", pg_db, "--format", "jsonl", delay=0.3)
    deadline = time.monotonic() + TIMEOUT
    while True:  # wait until two documents are stored (the schema exists once one is)
        try:
            if rows(pg_db, "SELECT count(*) FROM documents")[0][0] >= 2:
                break
        except Exception:  # not created yet
            pass
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    with postgres.connect() as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE"
            " application_name = 'ruen' AND datname = current_database()"
            " AND pid != pg_backend_pid()").fetchall()
    assert ended, "no ruen connection to end"
    _, stderr = process.communicate(timeout=TIMEOUT)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert process.returncode == 2, stderr
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {display_name(pg_db)}: the connection to the server was lost"), stderr
    documents, segments, translated = rows(
        pg_db, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM segments),"
               " (SELECT count(DISTINCT segment_id) FROM translations)")[0]
    assert 2 <= documents < 12
    assert segments == translated == 3 * documents  # whole documents, every sentence translated


def test_a_failing_migration_leaves_the_archive_at_its_old_version(
        pg_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus import pg_schema
    from corpus.store import Archive

    with Archive(pg_db):
        pass
    version = pg_schema.SCHEMA_VERSION

    def half_done(db) -> None:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
        db.execute("ALTER TABLE documents ADD COLUMN source TEXT")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of an upgrade

    monkeypatch.setattr(pg_schema, "MIGRATIONS", [*pg_schema.MIGRATIONS, half_done])
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", version + 1)
    with pytest.raises(KeyboardInterrupt):
        Archive(pg_db)
    monkeypatch.undo()
    assert rows(pg_db, "SELECT max(version) FROM ruen_schema") == [(version,)]
    assert rows(pg_db, "SELECT count(*) FROM information_schema.columns WHERE table_schema ="
                       " current_schema() AND table_name = 'documents' AND column_name = 'source'"
                ) == [(0,)]
    assert rows(pg_db, "SELECT to_regclass('notes') IS NULL") == [(True,)]
