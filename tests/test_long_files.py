"""A long file through `ruen translate`: read in chunks, translated and stored part by part
as it is read, refused whole (nothing stored) when it turns bad half-way, found again on a
re-run. Parts are 500 characters and chunks 1 KB here, so that a small file is "long"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import corpus.ingest as ingest
import translate.job
from corpus.store import Archive
from corpus.testing import count
from translate.cli import app
from translate.job import JobReport, run_job
from translate.pipeline import DocumentResult, Pipeline
from translate.segment import segment
from translate.testing import EchoEngine

PART_CHARS = 500
CHUNK = 1024
PARAGRAPHS = [f"Абзац {n}. Город Хама освобожден в {n} раз. Силы режима отступают к посёлку {n}."
              for n in range(60)]
LONG = "\n\n".join(PARAGRAPHS) + "\n"


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of PART_CHARS, files read CHUNK bytes at a time (the encoding judged on as many)."""
    monkeypatch.setattr(translate.job, "PART_CHARS", PART_CHARS)
    monkeypatch.setattr(ingest, "_CHUNK", CHUNK)
    monkeypatch.setattr(ingest, "_HEAD", CHUNK)


class _Counted:
    """A file that counts the bytes read from it."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.bytes += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def test_each_part_is_stored_before_the_next_is_read(
        db: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_parts: None,
        echo_engine: EchoEngine) -> None:
    source = tmp_path / "long.txt"
    source.write_text(LONG, encoding="utf-8")
    opened: list[_Counted] = []

    def counted_open(path: str, mode: str) -> _Counted:
        opened.append(_Counted(open(path, mode)))  # noqa: SIM115 (closed by `with`)
        return opened[-1]

    monkeypatch.setattr(ingest, "open", counted_open, raising=False)
    seen: list[tuple[int, int, int]] = []  # (part, bytes read when it was stored, parts stored)
    totals: list[int] = []
    with Archive(db) as archive:
        def on_result(number: int, result: DocumentResult) -> None:
            seen.append((result.document.metadata["part"], opened[-1].bytes,
                         len(archive.documents())))

        report = run_job(Pipeline(echo_engine, archive=archive),
                         [str(source)], on_result,
                         on_total=totals.append, report=JobReport(), part_chars=PART_CHARS)
        parts = [archive.document(d.id) for d in archive.documents()]
    n = len(parts)
    assert n >= 10 and report.documents == n and not report.failed
    assert totals == [len(segment(LONG))] == [report.sentences]
    # part k is stored before the reader gets further than the paragraph after it: it never
    # holds more than a part, a paragraph and a chunk
    ends = [len(LONG[:p.metadata["offset"] + len(p.text)].encode()) for p in parts]
    assert [(k, stored) for k, _, stored in seen] == [(k, k) for k in range(1, n + 1)]
    for k, read, _ in seen[:-1]:
        assert read <= ends[k] + CHUNK, (k, read, ends)  # ends[k]: the end of part k + 1
    assert seen[0][1] < len(LONG.encode()) / 4


def _counts(db: Path | str) -> dict[str, int]:
    return {table: count(db, table) for table in ("documents", "segments", "translations")}


def test_translate_a_long_file_in_parts_then_again_adds_nothing(
        tiny_model: Path, db: Path, tmp_path: Path, runner, small_parts: None) -> None:
    source = tmp_path / "long.txt"
    source.write_text(LONG, encoding="utf-8")
    args = ["translate", "--model", str(tiny_model), "--beam", "1"]
    first = runner.invoke(app, [*args, str(source)])
    assert first.exit_code == 0, first.output
    listed = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    n = len(listed)
    assert n > 5
    assert [d["title"] for d in listed] == [f"Абзац 0. Город Хама освобожден в 0 раз. Силы "
                                            f"режима отступают к посёлку 0. (part {k}/{n})"
                                            for k in range(1, n + 1)]
    with Archive(db) as archive:
        english = [p.en for p in archive.pairs()]
        assert [p.ru for p in archive.pairs()] == [s.ru for s in segment(LONG)]
    assert first.stdout.split() == " ".join(english).split()  # the English of every part
    assert len(first.stdout.rstrip("\n").split("\n\n")) == len(PARAGRAPHS)
    stored = _counts(db)

    again = runner.invoke(app, [*args, str(source)])
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    # The same text through stdin is read whole and cut in memory: the same parts, found in
    # the archive, the same output.
    piped = runner.invoke(app, [*args, "-"], input=LONG)
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == first.stdout
    assert _counts(db) == stored


def test_a_long_file_that_mixes_encodings_half_way_stores_nothing_of_it(
        tiny_model: Path, db: Path, tmp_path: Path, runner, small_parts: None) -> None:
    bad = tmp_path / "long.txt"
    data = LONG.encode()
    line = 81  # the 41st paragraph, far past the first chunk and the first parts
    position = data.index(PARAGRAPHS[40].encode())
    assert data[:position].count(b"\n") + 1 == line
    bad.write_bytes(data[:position] + PARAGRAPHS[40].encode("cp1251")
                    + data[position + len(PARAGRAPHS[40].encode()):])
    good = tmp_path / "short.txt"
    good.write_text("Город Хама освобожден.", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(bad), str(good), "--model", str(tiny_model),
                                 "--beam", "1"])
    assert result.exit_code == 2
    assert (f"error: {bad}:{line}: this line is not UTF-8 but others are: the file mixes "
            "encodings") in result.stderr
    assert "Traceback" not in result.output
    listed = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    assert [d["path"] for d in listed] == [str(good)]  # the good file only
