"""Several processes on one archive, on each backend (SQLite file, PostgreSQL server): two or
four `ruen translate` at once all succeed and store each sentence once; readers (list, search,
export) work while a write is in progress; a writer waits for another's transaction instead of
failing."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from corpus.db import is_url
from corpus.store import Archive
from corpus.testing import rows
from corpus.types import Document, SentencePair, System
from translate.cli import app

TIMEOUT = 120  # seconds; only to stop a hung test


def _write_folder(folder: Path, name: str, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"{name}{n}.txt"
        path.write_text(f"Город {name.upper()}-{n} освобожден. Силы режима отступают к "
                        f"посёлку номер {n}.\n\nМы продолжаем двигаться на юг.\n", encoding="utf-8")
        paths.append(path)
    return paths


def _counts(db: Path | str) -> tuple[int, int, int]:
    """(documents, segments, segments with exactly one translation)."""
    return rows(db, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM segments),"
                    " (SELECT count(*) FROM segments s WHERE (SELECT count(*) FROM translations t"
                    "  WHERE t.segment_id = s.id) = 1)")[0]


@contextmanager
def _other_writer(db: Path | str) -> Iterator[Any]:
    """Another program's connection to the archive, in a transaction it has begun (SQLite:
    holding the write lock; PostgreSQL: holding the rows it writes)."""
    if is_url(db):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as connection:
            connection.execute("BEGIN")
            yield connection
        return
    with closing(sqlite3.connect(db, isolation_level=None, check_same_thread=False)) as con:
        con.execute("BEGIN IMMEDIATE")
        yield con


def test_two_translate_processes_on_one_new_archive_both_succeed(
        db: Path | str, tiny_model: Path, tmp_path: Path,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    """Both create the archive at the same moment, then interleave their documents; the file
    they both translate is stored once."""
    first = _write_folder(tmp_path / "a", "a", 4)
    second = _write_folder(tmp_path / "b", "b", 4)
    common = ["--model", str(tiny_model), "--beam", "1", "--no-glossary", "--db", str(db),
              "--format", "jsonl"]
    processes = [ruen_process("translate", *map(str, first), *common, delay=0.1),
                 ruen_process("translate", str(first[0]), *map(str, second), *common, delay=0.1)]
    outputs = [p.communicate(timeout=TIMEOUT) for p in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    assert _counts(db) == (8, 24, 24)
    # both printed the shared file with the same document id and translation
    shared = []
    for stdout, _ in outputs:
        rows = [json.loads(line) for line in stdout.splitlines()]
        doc = next(r["doc"] for r in rows if r["ru"].startswith("Город A-0 "))
        shared.append([(r["doc"], r["index"], r["en"]) for r in rows if r["doc"] == doc])
    assert len(shared[0]) == 3 and shared[0] == shared[1]


def test_four_writers_on_one_archive_lose_and_duplicate_nothing(
        db: Path | str, tiny_model: Path, tmp_path: Path,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    """Four `ruen translate` at once (as on four machines of a desk): each translates files of
    its own and the same shared files; every document is stored once, every sentence has one
    translation, and each process printed what the archive holds."""
    shared = _write_folder(tmp_path / "shared", "s", 3)
    common = ["--model", str(tiny_model), "--beam", "1", "--no-glossary", "--db", str(db),
              "--format", "jsonl"]
    processes = []
    for worker in range(4):
        own = _write_folder(tmp_path / f"w{worker}", f"w{worker}x", 3)
        order = [*shared, *own] if worker % 2 else [*own, *reversed(shared)]
        processes.append(ruen_process("translate", *map(str, order), *common, delay=0.05))
    outputs = [p.communicate(timeout=TIMEOUT) for p in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    assert _counts(db) == (15, 45, 45)
    stored = {(d, i): en for d, i, en in rows(
        db, "SELECT s.doc_id, s.idx, t.en FROM segments s JOIN translations t"
            " ON t.segment_id = s.id")}
    for stdout, _ in outputs:
        printed = [json.loads(line) for line in stdout.splitlines()]
        assert len(printed) == 18
        assert all(stored[(r["doc"], r["index"])] == r["en"] for r in printed)


def test_list_search_and_export_work_while_a_write_is_in_progress(
        db: Path | str, tiny_model: Path, tmp_path: Path, runner) -> None:
    source = _write_folder(tmp_path / "in", "a", 1)[0]
    stored = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--db", str(db)], env={"HF_HUB_OFFLINE": "1"})
    assert stored.exit_code == 0, stored.output

    with _other_writer(db) as writer:  # another process in the middle of storing
        writer.execute("INSERT INTO documents (path, title, sha256, text, created)"
                       " VALUES ('b.txt', 'b', 'x', 'Хомс ждет.', 'now')")
        listed = runner.invoke(app, ["list", "--db", str(db), "--json"])
        found = runner.invoke(app, ["search", "освобожден", "--db", str(db), "--json"])
        exported = runner.invoke(app, ["export", "--db", str(db), "--format", "jsonl"])
        writer.execute("ROLLBACK")
    assert listed.exit_code == 0, listed.output
    assert [d["path"] for d in json.loads(listed.stdout)] == [str(source)]  # not b.txt yet
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.stdout)) == 1
    assert exported.exit_code == 0, exported.output
    assert len(exported.stdout.splitlines()) == 3


def test_a_writer_waits_for_another_writers_transaction(db: Path | str) -> None:
    """On PostgreSQL the other writer is storing the same document: the archive waits for its
    commit, then finds the document stored instead of storing it twice or failing."""
    Archive(db).close()
    text = "Город Хама освобожден."
    document = Document(path="a.txt", title="a", text=text)
    pairs = [SentencePair(doc=None, index=0, paragraph=0, ru=text, en="Hama is free.")]
    with _other_writer(db) as other:
        if is_url(db):
            other.execute("INSERT INTO documents (path, title, sha256, text, created)"
                          " VALUES ('a.txt', 'a', %s, %s, 'now')", (document.sha256, text))
        release = threading.Timer(1.0, lambda: other.execute("COMMIT"))
        release.start()
        with Archive(db) as archive:  # blocks until the other transaction ends, then stores
            archive.save_document(document, pairs, System("tiny"))
        release.join()
    assert _counts(db) == (1, 1, 1)


def _create_and_store(args: tuple[Path | str, int]) -> str:
    path, _worker = args
    try:
        with Archive(path) as archive:
            for n in range(10):
                text = f"Документ {n % 5}."  # the same five documents from every worker
                archive.save_document(
                    Document(path=f"{n}.txt", title="t", text=text),
                    [SentencePair(doc=None, index=0, paragraph=0, ru=text, en=f"Doc {n % 5}.")],
                    System("tiny"))
        return "ok"
    except Exception as exc:  # reported, so the assertion shows what went wrong
        return f"{type(exc).__name__}: {exc}"


def test_processes_creating_the_same_archive_at_once_all_succeed(
        db: Path | str, tmp_path: Path, request: Any) -> None:
    """Regression: each ran the migrations itself ("table documents already exists"), or saw
    the tables of another before its schema version ("not a ruen archive")."""
    # fork: the workers need this module's function, which spawn could not import by name
    with multiprocessing.get_context("fork").Pool(4) as pool:
        for trial in range(5):
            path = tmp_path / f"archive{trial}.db" if not is_url(db) else \
                request.getfixturevalue("postgres").new_archive()
            assert pool.map(_create_and_store, [(path, w) for w in range(4)]) == ["ok"] * 4
            assert _counts(path) == (5, 5, 5)
