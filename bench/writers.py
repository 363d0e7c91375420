"""Writers benchmark: 1, 2 and 4 `ruen translate` processes storing into one PostgreSQL archive
at once, as the machines of a desk do. A tiny random model translates (the archive is what is
measured, not the model).

    python -m bench.writers                          # the table of the README
    python -m bench.writers --writers 1 2 4 8 --documents 96 --json
    python -m bench.writers --server postgresql://me@db.example/postgres
    python -m bench.writers --direct                 # storing only, SQLite and PostgreSQL

Each run gets a new database on the server (dropped afterwards). The DOCUMENTS documents of
SENTENCES sentences are shared out among the writers, and every writer also translates the same
SHARED documents (in its own order): they race to store them. Throughput is counted while
documents are being stored, from the first stored to the last (the archive is polled every
50 ms), so that the seconds each process spends starting Python and loading the model are
left out; the wall time of the whole run is shown too. At the end every run is checked: each
document stored once, each sentence with exactly one translation, every process exited 0.

`--direct` measures the archive alone: 1, 2 and 4 processes call `Archive.save_document` with
ready-made translations (term hits and QA flags included, no model), on PostgreSQL and on an
SQLite file, timed from the first process starting to the last one ending (each has opened
its archive before the clock starts).

What it does not cover: a real model (a translation takes far longer than its storing, so a
desk's writers wait on their models, not on the archive), the network between machines (all
writers run here, on 127.0.0.1), and a busy server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.translate import generate_document

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DOCUMENTS = 48
SENTENCES = 20
SHARED = 4
POLL_S = 0.05


@dataclass(frozen=True)
class Run:
    writers: int
    documents: int  # distinct documents stored
    sentences: int
    store_seconds: float  # first to last document stored
    wall_seconds: float  # from starting the processes to the last one ending
    documents_per_s: float
    sentences_per_s: float
    lost: int  # documents or sentences missing, or stored twice (must be 0)


def _model(workdir: Path) -> Path:
    from translate.testing import build_marian

    model = workdir / "tiny-marian"
    if not (model / "config.json").is_file():
        text = generate_document(400, seed=3)
        source = [s for s in text.replace("\n", " ").split(". ") if s.strip()]
        build_marian(model, source, [s.upper() for s in source], num_beams=1)
    return model


def _documents(folder: Path, count: int, seed: int) -> tuple[list[Path], int]:
    """The files, and how many sentences ruen finds in them (what must be stored)."""
    from corpus.ingest import read_document
    from translate.segment import segment

    folder.mkdir(parents=True, exist_ok=True)
    paths, sentences = [], 0
    for n in range(count):
        path = folder / f"d{n}.txt"
        path.write_text(generate_document(SENTENCES, seed=seed + n), encoding="utf-8")
        paths.append(path)
        sentences += len(segment(read_document(path).text))
    return paths, sentences


def _count(url: str) -> tuple[int, int, int]:
    """(documents, segments, segments with exactly one translation); zeros before the
    archive exists."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SELECT to_regclass('documents')").fetchone()[0] is None:
            return 0, 0, 0
        return connection.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM segments),"
            " (SELECT count(*) FROM (SELECT segment_id FROM translations GROUP BY segment_id"
            "  HAVING count(*) = 1) once)").fetchone()


def run(server: str, writers: int, documents: int, workdir: Path, model: Path) -> Run:
    import psycopg

    database = f"ruen_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    url = urlunsplit(urlsplit(server)._replace(path=f"/{database}", query=""))
    try:
        inputs = workdir / f"run-{writers}"
        shutil.rmtree(inputs, ignore_errors=True)
        shared, in_shared = _documents(inputs / "shared", SHARED, seed=10_000)
        own, in_own = _documents(inputs / "own", documents - SHARED, seed=0)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        ruen = shutil.which("ruen") or "ruen"
        started = time.monotonic()
        processes = []
        for w in range(writers):
            mine = own[w::writers]
            order = [*shared, *mine] if w % 2 else [*mine, *reversed(shared)]
            processes.append(subprocess.Popen(
                [ruen, "translate", *map(str, order), "--db", url, "--model", str(model),
                 "--beam", "1", "--no-glossary", "--format", "jsonl", "-o", os.devnull],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        first = last = None
        stored = 0
        while any(p.poll() is None for p in processes):
            now = time.monotonic()
            count = _count(url)[0]
            if count and first is None:
                first = now
            if count > stored:
                stored, last = count, now
            time.sleep(POLL_S)
        wall = time.monotonic() - started
        errors = [p.stderr.read() for p in processes if p.wait() != 0]  # type: ignore[union-attr]
        if errors:
            raise SystemExit(f"a writer failed: {errors[0]}")
        stored_documents, segments, once = _count(url)
        if stored > 0 and stored_documents > stored:
            last = time.monotonic()  # the last ones landed after the last poll
        expected = in_shared + in_own
        lost = abs(documents - stored_documents) + abs(expected - segments) + (segments - once)
        seconds = max((last or 0) - (first or 0), POLL_S)
        # the first document's own storing is not timed: count the ones after it
        return Run(writers, stored_documents, segments, round(seconds, 2), round(wall, 1),
                   round((stored_documents - 1) / seconds, 1),
                   round((segments - segments / max(stored_documents, 1)) / seconds, 1), lost)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _store_share(target: str, texts: list[str], ready: Any, go: Any) -> None:
    """One writer of `--direct`: stores its documents with made-up translations."""
    from corpus.store import Archive
    from corpus.types import Document, Flag, SentencePair, System, TermStatus
    from translate.segment import segment

    system = System("bench/writers", "0", "none", {})
    with Archive(target) as archive:
        ready.wait()
        go.wait()
        for n, text in enumerate(texts):
            pairs = [SentencePair(doc=None, index=s.index, paragraph=s.paragraph, ru=s.ru,
                                  en=s.ru.upper(), start=s.start, end=s.end, score=-0.5,
                                  terms=(TermStatus("Хама", "Hama", "ok", 0, 4),),
                                  flags=(Flag("length-ratio", "info", "short"),))
                     for s in segment(text)]
            archive.save_document(Document(path=f"{n}.txt", title=str(n), text=text), pairs,
                                  system)


def direct(server: str, writers: int, documents: int, workdir: Path, backend: str) -> Run:
    """`--direct`: storing only, `writers` processes at once."""
    import multiprocessing

    import psycopg

    from corpus.store import Archive

    texts = [generate_document(SENTENCES, seed=n) for n in range(documents)]
    shared = texts[:SHARED]
    database = f"ruen_bench_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")
        target = urlunsplit(urlsplit(server)._replace(path=f"/{database}", query=""))
    else:
        target = str(workdir / f"{database}.db")
    try:
        Archive(target).close()  # created before the clock starts
        context = multiprocessing.get_context("fork")
        ready, go = context.Barrier(writers + 1), context.Event()
        workers = [context.Process(target=_store_share, args=(
            target, [*shared, *texts[SHARED + w::writers]], ready, go)) for w in range(writers)]
        for worker in workers:
            worker.start()
        ready.wait()
        started = time.monotonic()
        go.set()
        for worker in workers:
            worker.join()
        seconds = time.monotonic() - started
        if any(w.exitcode for w in workers):
            raise SystemExit("a writer failed")
        with Archive(target, readonly=True) as archive:
            stored, segments, once = archive.db.execute(
                "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM segments),"
                " (SELECT count(*) FROM (SELECT segment_id FROM translations GROUP BY"
                " segment_id HAVING count(*) = 1) once)").fetchone()
        from translate.segment import segment

        expected = sum(len(segment(t)) for t in texts)
        lost = abs(documents - stored) + abs(expected - segments) + (segments - once)
        return Run(writers, stored, segments, round(seconds, 2), round(seconds, 2),
                   round(stored / seconds, 1), round(segments / seconds, 1), lost)
    finally:
        if backend == "postgresql":
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.writers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help="a database on the server to create the benchmark's databases from")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--documents", type=int, default=DOCUMENTS,
                        help=f"distinct documents per run ({SHARED} of them translated by every "
                             "writer)")
    parser.add_argument("--direct", action="store_true",
                        help="the archive alone: Archive.save_document, no model, both backends")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.direct:
        with tempfile.TemporaryDirectory(prefix="ruen-writers-") as tmp:
            table = {backend: [direct(args.server, w, args.documents, Path(tmp), backend)
                               for w in args.writers] for backend in ("postgresql", "sqlite")}
        if args.json:
            print(json.dumps({b: [asdict(r) for r in runs] for b, runs in table.items()},
                             indent=2))
            return
        print(f"{args.documents} documents of {SENTENCES} sentences, Archive.save_document "
              "only (no model)\n")
        print("| backend | writers | documents/s | sentences/s | seconds | lost or twice |")
        print("|---------|--------:|------------:|------------:|--------:|--------------:|")
        for backend, runs in table.items():
            for r in runs:
                print(f"| {backend} | {r.writers} | {r.documents_per_s} | {r.sentences_per_s} "
                      f"| {r.store_seconds} | {r.lost} |")
        if any(r.lost for runs in table.values() for r in runs):
            raise SystemExit("documents or sentences were lost or stored twice")
        return
    with tempfile.TemporaryDirectory(prefix="ruen-writers-") as tmp:
        workdir = Path(tmp)
        model = _model(workdir)
        runs = []
        for writers in args.writers:
            print(f"{writers} writer(s)…", file=sys.stderr)
            runs.append(run(args.server, writers, args.documents, workdir, model))
    if args.json:
        print(json.dumps([asdict(r) for r in runs], indent=2))
        return
    print(f"{args.documents} documents of {SENTENCES} sentences ({SHARED} translated by every "
          "writer), tiny model, PostgreSQL on 127.0.0.1\n")
    print("| writers | documents/s | sentences/s | storing (s) | wall (s) | lost or twice |")
    print("|--------:|------------:|------------:|------------:|---------:|--------------:|")
    for r in runs:
        print(f"| {r.writers} | {r.documents_per_s} | {r.sentences_per_s} | {r.store_seconds} "
              f"| {r.wall_seconds} | {r.lost} |")
    if any(r.lost for r in runs):
        raise SystemExit("documents or sentences were lost or stored twice")


if __name__ == "__main__":
    main()
