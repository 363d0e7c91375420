"""Reading hypotheses, references and sources from lines, TSV and JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.errors import FormatError
from eval.errors import EvalError
from eval.readers import parse_system, read_sentences


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_plain_lines_keep_empty_sentences(tmp_path: Path) -> None:
    path = write(tmp_path, "hyp.txt", "\ufeffFirst.\n\nThird.\r\n")
    assert read_sentences(path) == ["First.", "", "Third."]  # BOM and CRLF gone, blank kept


def test_tsv_sides_and_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs.tsv", "Первое.\tFirst\\tone.\nВторое.\tSecond.\n")
    assert read_sentences(path, "ru") == ["Первое.", "Второе."]
    assert read_sentences(path, "en") == ["First\tone.", "Second."]


def test_jsonl_from_ruen_translate(tmp_path: Path) -> None:
    rows = [{"doc": 1, "index": 0, "ru": "Бои.", "en": "Fighting."},
            {"text": "Only text."}]
    path = write(tmp_path, "out.jsonl", "\n".join(json.dumps(r, ensure_ascii=False)
                                                  for r in rows) + "\n")
    assert read_sentences(path) == ["Fighting.", "Only text."]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.jsonl", '{"en": "ok"}\nnot json\n', r"bad.jsonl:2: not JSON"),
    ("bad.jsonl", '{"other": 1}\n', r"bad.jsonl:1: no 'en' or 'text' field"),
    ("bad.tsv", "a\tb\tc\n",
     r"bad.tsv:1: expected 2 tab-separated fields \(Russian, English\), found 3"),
    ("bad.txt", b"\xff\xfe\x00bad", r"bad.txt: not UTF-8"),
    ("bad.txt", "Хама\n".encode("cp1251"), r"bad.txt:1: not UTF-8"),
])
def test_malformed_files_name_file_and_line(tmp_path: Path, name: str, text: str,
                                            message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_sentences(write(tmp_path, name, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="no such file"):
        read_sentences(tmp_path / "nope.txt")


@pytest.mark.parametrize(("spec", "expected"), [
    ("int8=out/int8.txt", ("int8", Path("out/int8.txt"))),
    ("out/beam1.txt", ("beam1", Path("out/beam1.txt"))),
])
def test_parse_system(spec: str, expected: tuple[str, Path]) -> None:
    assert parse_system(spec) == expected


def test_parse_system_rejects_half_specs() -> None:
    with pytest.raises(EvalError, match="NAME=FILE"):
        parse_system("=file.txt")
