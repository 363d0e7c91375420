"""`ruen translate --ray`: a real local Ray instance (two CPUs, a small object store) decodes
on actors, and the archive it leaves is the archive a local run leaves, row for row; an actor
killed while it holds documents, or a driver killed mid-folder and started again, change nothing
in the result; bad inputs are reported as the local command reports them.

Both runs use one CTranslate2 thread per engine: a local run with more threads splits its
batches among side-by-side workers (`translate.engine.ctranslate2`), which changes the padding
and so the decimals; the runs compared here decode the same batches, so the English must be
equal to the letter, and the scores to the bit.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest
import ray

from corpus.store import open_archive
from corpus.testing import stored_sentences, wait_for_documents
from eval.qa import DEFAULT_CHECKS
from translate.cli import app
from translate.cluster import EngineSpec, RayOptions, run_on_ray
from translate.engine import DecodeSettings, load_engine
from translate.glossary.cli import build_glossary
from translate.model import resolve_model
from translate.pipeline import DocumentResult, Pipeline

TIMEOUT = 180  # seconds; generous, only to stop a hung test
HAMA = "Представитель командования подтвердил освобождение города Хама."
NAMES = ["Хама", "Хомс", "Идлиб", "Дамаск", "Алеппо", "Дераа"]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray instance for the module, its session files in a folder of its own (short: Ray's
    socket paths must fit in 107 bytes), so that other Ray runs on the machine do not meet it."""
    temp = tempfile.mkdtemp(prefix="ruen-ray-", dir="/tmp")
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=100 * 1024 * 1024, _temp_dir=temp,
             logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _news(folder: Path, count: int) -> Path:
    """Short news items with names, «quotes», an English quote (copied, flagged), a sentence
    every item repeats (translation memory within the run) and markup in one of them."""
    folder.mkdir()
    for n in range(count):
        city, other = NAMES[n % len(NAMES)], NAMES[(n + 2) % len(NAMES)]
        text = (f"Силы режима отступают от города {city} под давлением повстанцев. "
                f"«Мы продолжаем двигаться на юг, к городу {other}», — заявил командир "
                f"отряда №{n}.\n\n"
                f"В четверг, {n + 1} марта, начались новые столкновения в провинции {city}. "
                f"{HAMA}\n\n\"We will not leave {n}\", said the commander.\n")
        if n % 5 == 0:
            text += f"\nЖители <b>посёлка {n}</b> покинули свои дома.\n"
        (folder / f"{n:03}.txt").write_text(text, encoding="utf-8")
    return folder


def _archive(db: Path | str) -> dict[str, list[tuple]]:
    """Everything the archive (a file or a PostgreSQL URL) says about the run, without ids'
    order-free parts and times: documents, sentences, translations with their system, origin,
    score and the translation they copy, term statuses, QA flags and alternatives."""
    if isinstance(db, str):
        import psycopg

        connect: Callable[[], Any] = lambda: psycopg.connect(db)  # noqa: E731
    else:
        connect = lambda: sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # noqa: E731
    with closing(connect()) as con:
        def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in con.execute(sql).fetchall()]
        return {
            "documents": rows("SELECT id, path, title, sha256 FROM documents ORDER BY id"),
            "segments": rows("SELECT id, doc_id, idx, paragraph, start, \"end\", ru"
                             " FROM segments ORDER BY id"),
            "translations": rows(
                "SELECT t.id, t.segment_id, t.kind, t.en, t.origin, t.score,"
                " t.source_translation_id, y.model, y.revision, y.backend, y.settings"
                " FROM translations t LEFT JOIN systems y ON y.id = t.system_id ORDER BY t.id"),
            "terms": rows('SELECT translation_id, ru, en, status, start, "end" FROM term_hits'
                          " ORDER BY translation_id, start, ru"),
            "flags": rows('SELECT translation_id, "check", severity, message FROM qa_flags'
                          ' ORDER BY translation_id, "check", message'),
            "alternatives": rows("SELECT translation_id, kind, en, score FROM"
                                 " translation_alternatives ORDER BY translation_id, kind, en"),
        }


def _translate(runner, *args: str) -> object:
    result = runner.invoke(app, ["translate", *args], env={"HF_HUB_OFFLINE": "1"})
    return result


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _news(tmp_path_factory.mktemp("news") / "news", 14)


@pytest.fixture(scope="module")
def glossary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("glossary") / "mine.tsv"
    path.write_text("ru\ten\tvariants\nХама\tHama\tKhama\nкомандование\tcommand\t\n",
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_run(tiny_model: Path, folder: Path, glossary: Path,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The archive and JSONL output of the local command on the folder."""
    from typer.testing import CliRunner

    db = tmp_path_factory.mktemp("local") / "local.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUEN_GLOSSARY", str(db.parent / "none.tsv"))
        result = _translate(CliRunner(), str(folder), "--model", str(tiny_model), "--db",
                            str(db), "--threads", "1", "-g", str(glossary), "-f", "jsonl")
    assert result.exit_code == 0, result.output
    return db, result.stdout


def test_a_folder_on_ray_gives_exactly_the_local_archive(
        local_ray: None, local_run: tuple[Path, str], tiny_model: Path, folder: Path,
        glossary: Path, tmp_path: Path, runner) -> None:
    db = tmp_path / "ray.db"
    result = _translate(runner, str(folder), "--model", str(tiny_model), "--db", str(db),
                        "--threads", "1", "-g", str(glossary), "-f", "jsonl",
                        "--ray", "local", "--actors", "2")
    assert result.exit_code == 0, result.output
    mine, local = _archive(db), _archive(local_run[0])
    assert len(mine["documents"]) == 14
    # what the comparison covers: memory within the run, copies, terms, flags, alternatives
    origins = {row[4] for row in mine["translations"]}
    assert origins == {"mt", "tm", "copy"}
    assert any(status == "missing" for *_, status, _, _ in mine["terms"]) or mine["terms"]
    assert {row[1] for row in mine["flags"]} >= {"not-russian"}
    for table in local:
        assert mine[table] == local[table], table
    assert result.stdout == local_run[1]  # what the reader sees, in the same order


def test_on_postgresql_a_writer_actor_stores_exactly_the_local_archive(
        local_ray: None, tiny_model: Path, folder: Path, glossary: Path, pg_db: str,
        postgres, runner, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus.store import Archive

    local_db = postgres.new_archive()
    stored_here: list[str] = []  # documents this process (the driver) stored
    save = Archive.save_document

    def counted(self: Archive, document, *args, **kwargs):
        stored_here.append(document.path)
        return save(self, document, *args, **kwargs)

    monkeypatch.setattr(Archive, "save_document", counted)
    monkeypatch.setenv("RUEN_GLOSSARY", str(folder.parent / "none.tsv"))
    common = [str(folder), "--model", str(tiny_model), "--threads", "1", "-g", str(glossary),
              "-f", "jsonl"]
    local = _translate(runner, *common, "--db", local_db)
    assert local.exit_code == 0, local.output
    assert len(stored_here) == 14  # the counter sees a store where there is one
    stored_here.clear()
    on_ray = _translate(runner, *common, "--db", pg_db, "--ray", "local", "--actors", "2")
    assert on_ray.exit_code == 0, on_ray.output
    assert stored_here == []  # every document was stored by the writer actor
    mine, theirs = _archive(pg_db), _archive(local_db)
    assert len(mine["documents"]) == 14
    assert {row[4] for row in mine["translations"]} == {"mt", "tm", "copy"}
    for table in theirs:
        assert mine[table] == theirs[table], table
    assert on_ray.stdout == local.stdout


def _descendants(pid: int) -> list[int]:
    """The processes started under `pid`, at any depth (from /proc: Linux)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _actors(name: str = "DocumentTranslator") -> list[int]:
    """This test's Ray actor processes (started under this process, never another's)."""
    found = []
    for pid in _descendants(os.getpid()):
        with suppress(OSError):
            if name in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(pid)
    return found


def test_an_actor_killed_while_holding_documents_changes_nothing(
        local_ray: None, local_run: tuple[Path, str], tiny_model: Path, folder: Path,
        glossary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RUEN_GLOSSARY", str(tmp_path / "none.tsv"))
    db = tmp_path / "ray.db"
    ref = resolve_model(str(tiny_model), None)
    spec = EngineSpec(ref, threads=1)
    archive = open_archive(db, readonly=False)
    pipeline = Pipeline(load_engine(ref, threads=1), DecodeSettings(), archive=archive,
                        glossary=build_glossary([glossary], False), checks=DEFAULT_CHECKS)
    killed: list[int] = []

    def kill_after_the_first(number: int, result: DocumentResult) -> None:
        if killed:
            return
        # one actor, one document per call: the others are queued on it or being decoded
        for actor in _actors():
            os.kill(actor, signal.SIGKILL)
            killed.append(actor)

    try:
        report = run_on_ray(pipeline, spec, sorted(map(str, folder.iterdir())),
                            on_result=kill_after_the_first,
                            ray_options=RayOptions(actors=1, documents_per_call=1))
    finally:
        archive.close()
    assert killed, "no actor process found to kill"
    assert report.documents == 14 and not report.failed
    assert not set(killed) & set(_actors())  # replaced (or gone by now)
    mine, local = _archive(db), _archive(local_run[0])
    for table in local:
        assert mine[table] == local[table], table


def test_a_driver_killed_mid_folder_and_started_again_finishes_without_duplicates(
        tiny_model: Path, tmp_path: Path, local_run: tuple[Path, str], glossary: Path,
        folder: Path, ruen_process: Callable[..., subprocess.Popen]) -> None:
    db = tmp_path / "archive.db"
    # the Ray instances the drivers start keep their files in RUEN_RAY_TMPDIR (conftest)
    args = [str(folder), "--model", str(tiny_model), "--db", str(db), "--threads", "1",
            "-g", str(glossary), "--ray", "local", "--actors", "1"]
    # every batch waits (in the actor too): the kill lands in the middle of the folder
    process = ruen_process("translate", *args, delay=0.4)
    wait_for_documents(db, 2, process, TIMEOUT)
    family = _descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT)
    for leftover in family:  # the Ray instance the killed driver started
        with suppress(OSError):
            os.kill(leftover, signal.SIGKILL)
    stored = stored_sentences(db)
    assert 2 <= len(stored) < 14
    assert all(count == 1 for rows in stored.values() for _, count in rows)

    again = ruen_process("translate", *args)
    _, stderr = again.communicate(timeout=TIMEOUT)
    assert again.returncode == 0, stderr
    finished = stored_sentences(db)
    assert len(finished) == 14
    assert all(count == 1 for rows in finished.values() for _, count in rows)
    mine, local = _archive(db), _archive(local_run[0])
    assert mine["segments"] == local["segments"]
    assert [r[1:5] for r in mine["translations"]] == [r[1:5] for r in local["translations"]]


def test_bad_inputs_are_reported_as_the_local_command_reports_them(
        local_ray: None, tiny_model: Path, tmp_path: Path, runner) -> None:
    folder = _news(tmp_path / "in", 3)
    (folder / "scan.pdf").write_bytes(b"\x89PNG\r\n\x1a\n not a pdf")
    (folder / "notes.txt").write_bytes(b"\x00\x01\x02\xff\xfe binary, not text" * 20)
    cases = {  # inputs, what the error lines name, whether the good files are stored
        "a folder with bad files": ([str(folder), "--pattern", "*.txt", "--pattern", "*.pdf"],
                                    ["notes.txt: a binary file", "scan.pdf: not a PDF"], True),
        "a missing file": ([str(folder / "001.txt"), str(tmp_path / "nowhere.txt")],
                           ["nowhere.txt: no such file or folder"], False)}
    for case, (inputs, named, stored) in cases.items():
        outcomes = []
        for extra in ([], ["--ray", "local"]):
            db = tmp_path / f"{case}{len(outcomes)}.db"
            result = _translate(runner, *inputs, "--model", str(tiny_model), "--db", str(db),
                                "--threads", "1", "-f", "jsonl", *extra)
            kept = _archive(db)["translations"] if db.exists() else None
            outcomes.append((result.exit_code, result.stderr, result.stdout, kept))
        local, on_ray = outcomes
        errors = local[1].splitlines()
        assert len(errors) == len(named) and all(
            line.startswith("error: ") and what in line
            for line, what in zip(errors, named, strict=True)), (case, local[1])
        assert local[0] == 2, case
        assert bool(local[3]) is stored, case  # a missing input is refused before any work
        assert on_ray == local, case


def test_actors_record_their_own_system_and_actors_that_cannot_be_placed_are_refused(
        local_ray: None, tiny_model: Path, tmp_path: Path, runner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from translate.cluster import _actor_system

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ref = resolve_model(str(tiny_model), None)
    pipeline = Pipeline(load_engine(ref, threads=1), DecodeSettings(beam=1),
                        glossary=build_glossary(None, False))
    # asked of a Ray worker (on GPUs, the driver's CPU engine would not know the precision)
    asked = _actor_system(EngineSpec(ref, threads=1), pipeline, {"num_cpus": 1})
    assert asked == pipeline.system

    (tmp_path / "a.txt").write_text("Силы режима отступают.\n", encoding="utf-8")
    db = tmp_path / "archive.db"
    result = _translate(runner, str(tmp_path / "a.txt"), "--model", str(tiny_model), "--db",
                        str(db), "--ray", "local", "--device", "cuda")
    assert result.exit_code == 2, result.output
    assert result.stderr == "error: --device cuda: the Ray cluster has no GPU.\n"
    assert not result.stdout
    # an actor that could never be placed is refused, not waited for
    result = _translate(runner, str(tmp_path / "a.txt"), "--model", str(tiny_model), "--db",
                        str(db), "--ray", "local", "--threads", "3")
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: --threads 3: an actor runs on one machine, and the largest "
                             "in the Ray cluster has 2 CPU(s).\n")
    result = _translate(runner, str(tmp_path / "a.txt"), "--model", str(tiny_model), "--db",
                        str(db), "--ray", "local", "--actors", "3", "--threads", "1")
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: --actors 3 of 1 thread(s) each need 3 CPUs; the Ray "
                             "cluster has 2.\n")


def test_ctrl_c_stops_before_the_next_document_and_says_what_was_stored(
        tiny_model: Path, tmp_path: Path, folder: Path,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    db = tmp_path / "archive.db"
    process = ruen_process("translate", str(folder), "--model", str(tiny_model), "--db",
                           str(db), "--threads", "1", "--ray", "local", "--format", "jsonl",
                           delay=0.4)
    wait_for_documents(db, 1, process, TIMEOUT)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    stored = stored_sentences(db)
    assert 1 <= len(stored) < 14
    assert all(count == 1 for rows in stored.values() for _, count in rows)
    sentences = sum(len(rows) for rows in stored.values())
    assert len(stdout.splitlines()) == sentences  # printed exactly what was stored
    assert (f"Interrupted: {len(stored)} document(s), {sentences} sentence(s) finished and "
            f"stored in {db}.") in stderr
    unfinished = sorted(set(map(str, folder.iterdir())) - set(stored))[0]
    assert f"{unfinished} was not finished and is not stored" in stderr


def test_a_jsonl_or_parquet_manifest_gives_exactly_the_archive_of_the_files(
        local_ray: None, local_run: tuple[Path, str], tiny_model: Path, folder: Path,
        glossary: Path, tmp_path: Path, runner) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(folder.iterdir())
    # the texts themselves, named by their files; the last one by its path only (read there)
    rows: list[dict[str, Any]] = [{"path": str(f), "text": f.read_text(encoding="utf-8")}
                                  for f in files[:-1]] + [{"path": str(files[-1])}]
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                     encoding="utf-8")
    parquet = tmp_path / "news.parquet"
    pq.write_table(pa.Table.from_pylist([{"path": r["path"], "text": r.get("text")}
                                         for r in rows]), parquet)
    for manifest in (jsonl, parquet):
        db = tmp_path / f"{manifest.suffix[1:]}.db"
        result = _translate(runner, str(manifest), "--model", str(tiny_model), "--db", str(db),
                            "--threads", "1", "-g", str(glossary), "-f", "jsonl",
                            "--ray", "local", "--actors", "2")
        assert result.exit_code == 0, (manifest, result.output)
        mine, local = _archive(db), _archive(local_run[0])
        assert len(mine["documents"]) == 14
        for table in local:
            assert mine[table] == local[table], (manifest.name, table)
        assert result.stdout == local_run[1], manifest.name


def test_bad_manifest_rows_are_reported_and_the_others_translated(
        local_ray: None, tiny_model: Path, tmp_path: Path, runner) -> None:
    import json

    manifest = tmp_path / "feed.jsonl"
    rows = [{"text": f"{HAMA} «Мы уходим», — сказал он.", "title": "Хама освобождена",
             "author": "Иван Петров", "url": "https://example.org/hama"},
            {"title": "без текста"},
            {"text": "   ", "path": "blank.txt"},
            {"path": str(tmp_path / "nowhere.txt")},
            {"path": str(tmp_path / "idlib.txt"), "site": "example.org", "published": "2019-03-01"}]
    (tmp_path / "idlib.txt").write_text("Бои в Идлибе\n\nСилы режима отступают от Идлиба.\n",
                                        encoding="utf-8")
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
    db = tmp_path / "archive.db"
    result = _translate(runner, str(manifest), "--model", str(tiny_model), "--db", str(db),
                        "--threads", "1", "--ray", "local")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    assert len(errors) == 3, result.stderr
    assert errors[0] == f"error: {manifest}: row 2: neither a text nor a path or url."
    assert errors[1] == f"error: {manifest}: row 3: an empty text, nothing to translate."
    assert errors[2].startswith("error: ") and "nowhere.txt" in errors[2]
    documents = _archive(db)["documents"]
    assert [(path, title) for _, path, title, _ in documents] == [
        ("https://example.org/hama", "Хама освобождена"),
        (str(tmp_path / "idlib.txt"), "Бои в Идлибе")]  # a file's own title: its first line
    with closing(sqlite3.connect(db)) as con:
        stored = con.execute("SELECT json_extract(metadata, '$.author'),"
                             " json_extract(metadata, '$.url'), json_extract(metadata, '$.site'),"
                             " json_extract(metadata, '$.published') FROM documents"
                             " ORDER BY id").fetchall()
    assert stored == [("Иван Петров", "https://example.org/hama", None, None),
                      (None, None, "example.org", "2019-03-01")]
