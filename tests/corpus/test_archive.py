"""Archives that cannot be used: a clear error naming the file, and nothing already in it lost.

Not a ruen archive, a newer schema, a read-only file or folder, a full disk, a migration that
fails half-way. These are SQLite files' problems, tested on files only; a PostgreSQL archive's
are in tests/test_postgres_errors.py, and the newer schema on both in tests/test_bad_input.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import corpus.schema
from corpus.errors import ArchiveError
from corpus.store import SCHEMA_VERSION, Archive
from corpus.types import Document, SentencePair, System
from translate.segment import segment

SYSTEM = System("tiny", "", "transformers", {"beam": 1})


def _document(text: str) -> tuple[Document, list[SentencePair]]:
    return (Document(path=f"{text[:8]}.txt", title=text[:8], text=text),
            [SentencePair(doc=None, index=0, paragraph=0, ru=text, en=text.upper(),
                          start=0, end=len(text))])


def _store(path: Path, *texts: str) -> None:
    with Archive(path) as archive:
        for text in texts:
            archive.save_document(*_document(text), SYSTEM)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(path: Path) -> list[str]:
    """The Russian sentences stored, read through a plain SQLite connection; also checks that
    SQLite finds the file sound."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [r[0] for r in db.execute("SELECT ru FROM segments ORDER BY id")]


@pytest.fixture
def make_readonly() -> Iterator[Callable[[Path], None]]:
    """Make a file or folder read-only for this process. Root ignores permission bits, so as
    root the file is made immutable (`chattr +i`) instead, or the test is skipped."""
    changed: list[Path] = []

    def readonly(path: Path) -> None:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        changed.append(path)
        if os.geteuid() == 0:
            done = shutil.which("chattr") and subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True).returncode == 0
            if not done:
                pytest.skip("running as root without chattr: cannot make a file read-only")

    yield readonly
    for path in reversed(changed):  # writable again, so that pytest can delete tmp_path
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


# ------------------------------------------------------------------ not a ruen archive


@pytest.mark.parametrize(("content", "message"), [
    # a PNG, a text file: not SQLite at all
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a ruen archive"),
    ("Город Хама освобожден.\n".encode() * 100, "not a ruen archive"),
])
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(
        tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "archive.db"
    path.write_bytes(content)
    for readonly in (False, True):
        with pytest.raises(ArchiveError, match=message) as caught:
            Archive(path, readonly=readonly)
        assert str(path) in str(caught.value)
    assert path.read_bytes() == content
    assert not Path(f"{path}-wal").exists()


def test_another_programs_sqlite_database_is_refused_and_not_switched_to_wal(
        tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (name TEXT)")
        db.execute("INSERT INTO people VALUES ('Ахмед')")
    db.close()
    before = _digest(path)
    with pytest.raises(ArchiveError, match="an SQLite file, but not a ruen archive"):
        Archive(path)
    assert _digest(path) == before  # journal mode, tables and rows untouched
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()


def test_an_archive_from_a_newer_ruen_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    _store(path, "Город Хама освобожден.")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = _digest(path)
    for readonly in (False, True):
        with pytest.raises(ArchiveError, match=r"newer than this ruen understands.*upgrade ruen"):
            Archive(path, readonly=readonly)
    assert _digest(path) == before
    assert _stored(path) == ["Город Хама освобожден."]


# ------------------------------------------------------------------ read-only


def test_a_read_only_archive_file_can_be_read_but_not_written(
        tmp_path: Path, make_readonly: Callable[[Path], None]) -> None:
    path = tmp_path / "archive.db"
    _store(path, "Город Хама освобожден.")
    make_readonly(path)
    before = _digest(path)
    with Archive(path, readonly=True) as archive:
        assert [d.segments for d in archive.documents()] == [1]
    # refused when opened, before any translation work is done
    with pytest.raises(ArchiveError, match=r"archive is read-only.*Nothing was stored"):
        Archive(path)
    assert _digest(path) == before
    assert _stored(path) == ["Город Хама освобожден."]


def test_an_archive_cannot_be_created_in_a_read_only_folder(
        tmp_path: Path, make_readonly: Callable[[Path], None]) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    make_readonly(folder)
    with pytest.raises(ArchiveError, match="cannot open the archive") as caught:
        Archive(folder / "archive.db")
    assert str(folder / "archive.db") in str(caught.value)
    assert list(folder.iterdir()) == []
    with pytest.raises(ArchiveError, match="cannot create the archive's folder"):
        Archive(folder / "sub" / "archive.db")


def test_an_archive_in_a_read_only_folder_is_refused_and_intact(
        tmp_path: Path, make_readonly: Callable[[Path], None]) -> None:
    """SQLite in WAL mode writes `-wal` and `-shm` files beside the archive: a folder where
    these cannot be created is refused with a message naming the folder's permissions."""
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "archive.db"
    _store(path, "Город Хама освобожден.")
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]  # closed cleanly
    before = _digest(path)
    make_readonly(folder)
    with pytest.raises(ArchiveError, match=r"cannot open the archive|read-only"):
        Archive(path)
    assert _digest(path) == before


# ------------------------------------------------------------------ disk full


def test_a_full_disk_stores_nothing_of_the_document_and_keeps_the_rest(tmp_path: Path) -> None:
    """A full disk simulated with `max_page_count`: SQLite fails exactly as on a real one
    (SQLITE_FULL), part-way through writing the document."""
    path = tmp_path / "archive.db"
    _store(path, "Город Хама освобожден.")
    with Archive(path) as archive:
        pages = archive.db.execute("PRAGMA page_count").fetchone()[0]
        archive.db.execute(f"PRAGMA max_page_count = {pages + 2}")
        big = " ".join(["Силы режима отступают под давлением повстанцев."] * 2000)
        with pytest.raises(ArchiveError, match=r"disk is full.*was not stored.*run the same"):
            archive.save_document(*_document(big), SYSTEM)
        assert not archive.db.in_transaction
        # the connection is still usable once space is back
        archive.db.execute("PRAGMA max_page_count = 1073741823")
        archive.save_document(*_document("Мы продолжаем двигаться на юг."), SYSTEM)
    assert _stored(path) == ["Город Хама освобожден.", "Мы продолжаем двигаться на юг."]


# ------------------------------------------------------------------ migrations


def test_a_failing_migration_leaves_the_archive_at_its_old_version(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "archive.db"
    _store(path, "Город Хама освобожден.")

    def half_done(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
        db.execute("ALTER TABLE documents ADD COLUMN source TEXT")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of an upgrade

    monkeypatch.setattr(corpus.schema, "MIGRATIONS", [*corpus.schema.MIGRATIONS, half_done])
    monkeypatch.setattr(corpus.schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(KeyboardInterrupt):
        Archive(path)
    monkeypatch.undo()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'notes'"
                          ).fetchone()[0] == 0
        columns = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
    db.close()
    assert "source" not in columns
    with Archive(path) as archive:  # the old ruen still opens it
        assert [d.segments for d in archive.documents()] == [1]


def test_an_old_archive_is_upgraded_step_by_step_keeping_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    with sqlite3.connect(path, isolation_level=None) as db:  # an archive made by ruen 0.0
        db.execute("BEGIN")
        corpus.schema.MIGRATIONS[0](db)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO documents (path, title, sha256, text, created)"
                   " VALUES ('a.txt', 'a', 'x', 'Город Хама освобожден.', 'now')")
        db.execute("INSERT INTO segments (doc_id, idx, paragraph, start, \"end\", ru, ru_norm)"
                   " VALUES (1, 0, 0, 0, 22, 'Город Хама освобожден.', 'город хама освобожден.')")
        db.execute("COMMIT")
    db.close()
    with pytest.raises(ArchiveError, match="needs upgrading"):
        Archive(path, readonly=True)
    with Archive(path) as archive:
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [d.segments for d in archive.documents()] == [1]
    assert _stored(path) == ["Город Хама освобожден."]


@pytest.mark.parametrize("command", [["list"], ["show", "1"], ["search", "Хама"],
                                     ["eval", "runs"], ["qa"], ["glossary", "audit"]])
def test_commands_that_only_read_upgrade_an_old_archive_first(tmp_path: Path, runner,
                                                              command: list[str]) -> None:
    from translate.cli import app

    path = tmp_path / "archive.db"
    with sqlite3.connect(path, isolation_level=None) as db:  # an archive of schema version 2
        db.execute("BEGIN")
        for number, migration in enumerate(corpus.schema.MIGRATIONS[:2], start=1):
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO documents (path, title, sha256, text, created)"
                   " VALUES ('a.txt', 'a', 'x', 'Город Хама освобожден.', 'now')")
        db.execute("INSERT INTO segments (doc_id, idx, paragraph, start, \"end\", ru, ru_norm)"
                   " VALUES (1, 0, 0, 0, 22, 'Город Хама освобожден.', 'город хама освобожден.')")
        db.execute("INSERT INTO translations (segment_id, kind, en, created)"
                   " VALUES (1, 'mt', 'The city of Hama is free.', 'now')")
        db.execute("COMMIT")
    db.close()
    result = runner.invoke(app, [*command, "--db", str(path)])
    assert result.exit_code == 0, result.output
    with Archive(path, readonly=True) as archive:
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [p.en for p in archive.pairs(1)] == ["The city of Hama is free."]


def test_translate_into_a_read_only_archive_fails_before_translating_and_list_still_works(
        tiny_model: Path, tmp_path: Path, runner, make_readonly: Callable[[Path], None]) -> None:
    from translate.cli import app

    path = tmp_path / "archive.db"
    _store(path, "Город Хама освобожден.")
    make_readonly(path)
    source = tmp_path / "a.txt"
    source.write_text("Силы режима отступают.\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--db", str(path)], env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}: the archive is read-only")
    assert result.stdout == ""  # refused before any translation
    listed = runner.invoke(app, ["list", "--db", str(path), "--json"])
    assert listed.exit_code == 0, listed.output
    assert _stored(path) == ["Город Хама освобожден."]


def test_a_full_disk_during_translate_is_one_error_and_the_archive_stays_whole(
        tiny_model: Path, tmp_path: Path, runner) -> None:
    """A real `ruen translate` process whose files may not grow past a limit (RLIMIT_FSIZE): its
    writes fail as on a full disk."""
    import resource
    import signal
    import sys

    from translate.cli import app

    path = tmp_path / "archive.db"
    first = tmp_path / "a.txt"
    first.write_text("Город Хама освобожден.\n", encoding="utf-8")
    args = ["--model", str(tiny_model), "--backend", "transformers", "--beam", "1",
            "--no-glossary", "--db", str(path)]
    assert runner.invoke(app, ["translate", str(first), *args],
                         env={"HF_HUB_OFFLINE": "1"}).exit_code == 0
    big = tmp_path / "b.txt"
    # Far more than the limit lets the archive (or its write-ahead log) grow, whatever the
    # schema's size (a document that nearly fits may commit into the log and pass); the
    # lines without Cyrillic are copied, not decoded, so the test stays quick.
    big.write_text(" ".join(f"Силы режима отступают к посёлку номер {n}." for n in range(40))
                   + "\n\n" + "\n\n".join(f"Update {n}: the full list is at "
                                          f"https://example.org/live/{n}" for n in range(300)),
                   encoding="utf-8")
    limit = path.stat().st_size + 8_192

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of dying
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    ruen = shutil.which("ruen") or str(Path(sys.executable).parent / "ruen")
    result = subprocess.run(
        [ruen, "translate", str(big), *args], capture_output=True, text=True, timeout=300,
        preexec_fn=full_disk,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {path}: the disk is full or failing"), result.stderr
    assert "the current document was not stored, everything stored before is intact" in (
        result.stderr.replace("\n", " "))
    assert "Traceback" not in result.stderr
    assert _stored(path) == ["Город Хама освобожден."]
    # with space again, the same command finishes the job
    again = runner.invoke(app, ["translate", str(big), *args], env={"HF_HUB_OFFLINE": "1"})
    assert again.exit_code == 0, again.output
    assert len(_stored(path)) == 1 + len(segment(big.read_text(encoding="utf-8")))
