"""A real `ruen translate` process killed (SIGKILL) or interrupted (Ctrl-C) in the middle of a
folder: documents are stored whole or not at all, and running the same command again finishes
the job without duplicating or losing a sentence. On both backends (a killed process's
PostgreSQL transaction is rolled back by the server).

Each subprocess waits before every batch (the `ruen_process` fixture), so that the signal lands
in the middle of the folder.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from corpus.db import display_name, is_url
from corpus.testing import stored_sentences, wait_for_documents
from translate.cli import app
from translate.segment import segment

FILES = 6
SENTENCES = 6
WORDS = ["город", "силы", "режим", "юг", "бои", "район", "провинция", "деревня", "командование",
         "коалиция", "министр", "подкрепления"]
TIMEOUT = 120  # seconds; generous, only to stop a hung test


def _folder(tmp_path: Path) -> Path:
    """Files of distinct sentences (no sentence repeats across files, so the translation memory
    cannot hide a lost one)."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for f in range(FILES):
        sentences = [f"Статья {f}, фраза {s}: {WORDS[(f + s) % len(WORDS)]} и "
                     f"{WORDS[(f * s) % len(WORDS)]} в {1990 + f * 10 + s} году."
                     for s in range(SENTENCES)]
        (folder / f"{f:02}.txt").write_text(" ".join(sentences) + "\n", encoding="utf-8")
    return folder


def _assert_whole(db: Path | str) -> dict[str, list[tuple[str, int]]]:
    """Every stored document has all its sentences, each translated exactly once."""
    stored = stored_sentences(db)
    for path, sentences in stored.items():
        expected = [s.ru for s in segment(Path(path).read_text(encoding="utf-8"))]
        assert [ru for ru, _ in sentences] == expected, path
        assert all(count == 1 for _, count in sentences), path
    return stored


def _export(runner, db: Path | str) -> list[tuple[int, int, str, str]]:
    result = runner.invoke(app, ["export", "--db", str(db), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in result.stdout.splitlines()]
    return [(r["doc"], r["index"], r["ru"], r["en"]) for r in exported]


def test_kill_9_mid_folder_then_rerun_finishes_without_duplicates_or_losses(
        db: Path | str, tiny_model: Path, tmp_path: Path, runner,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    folder = _folder(tmp_path)
    reference = tmp_path / "reference.db"  # the same job, never interrupted
    args = ["translate", str(folder), "--model", str(tiny_model), "--beam", "1"]
    clean = runner.invoke(app, [*args, "--db", str(reference)], env={"HF_HUB_OFFLINE": "1"})
    assert clean.exit_code == 0, clean.output

    process = ruen_process(*args, "--db", str(db), delay=0.5)
    wait_for_documents(db, 2, process, TIMEOUT)
    process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT)
    assert process.returncode == -signal.SIGKILL

    stored = _assert_whole(db)
    assert 2 <= len(stored) < FILES  # killed in the middle of the folder

    again = runner.invoke(app, [*args, "--db", str(db), "--format", "jsonl"],
                          env={"HF_HUB_OFFLINE": "1"})
    assert again.exit_code == 0, again.output
    origins = [json.loads(line)["origin"] for line in again.stdout.splitlines()]
    assert origins.count("tm") == sum(len(r) for r in stored.values())  # reused, not redone
    assert len(_assert_whole(db)) == FILES
    # the same sentences at the same places as an uninterrupted run, each translated; the
    # English itself is not compared: decoding in two processes under load once differed
    mine, ref = _export(runner, db), _export(runner, reference)
    assert [r[:3] for r in mine] == [r[:3] for r in ref]
    assert all(en.strip() for *_, en in mine)


def test_ctrl_c_stops_after_the_current_batch_and_says_what_was_stored(
        db: Path | str, tiny_model: Path, tmp_path: Path, runner,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    folder = _folder(tmp_path)
    # a tiny token budget: several batches per document, so Ctrl-C lands inside one
    args = ["translate", str(folder), "--model", str(tiny_model), "--beam", "1",
            "--batch-tokens", "60", "--db", str(db)]
    process = ruen_process(*args, "--format", "jsonl", delay=0.4)
    wait_for_documents(db, 1, process, TIMEOUT)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Stopping after the current batch" in stderr
    stored = _assert_whole(db)
    assert 1 <= len(stored) < FILES
    sentences = sum(len(r) for r in stored.values())
    name = display_name(db) if is_url(db) else db
    assert (f"Interrupted: {len(stored)} document(s), {sentences} sentence(s) finished and "
            f"stored in {name}.") in stderr
    unfinished = sorted(set(map(str, folder.iterdir())) - set(stored))[0]
    assert f"{unfinished} was not finished and is not stored" in stderr
    assert "Run the same command again" in stderr
    # what was printed is exactly what was stored
    printed = [json.loads(line) for line in stdout.splitlines()]
    assert [r["ru"] for r in printed] == [ru for r in stored.values() for ru, _ in r]

    again = runner.invoke(app, args, env={"HF_HUB_OFFLINE": "1"})
    assert again.exit_code == 0, again.output
    assert len(_assert_whole(db)) == FILES


def test_a_second_ctrl_c_stops_at_once_and_keeps_documents_whole(
        db: Path | str, tiny_model: Path, tmp_path: Path,
        ruen_process: Callable[..., subprocess.Popen]) -> None:
    folder = _folder(tmp_path)
    # one batch per document, each after a long wait: the first Ctrl-C alone would be obeyed
    # only once the batch in progress is done
    process = ruen_process("translate", str(folder), "--model", str(tiny_model), "--beam", "1",
                           "--db", str(db), delay=2.0)
    wait_for_documents(db, 1, process, TIMEOUT)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    stored = _assert_whole(db)
    # the second document was in its (only) batch: dropped, not finished as after one Ctrl-C
    assert len(stored) == 1
    assert "Interrupted: 1 document(s)" in stderr
