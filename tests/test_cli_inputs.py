"""`ruen translate` inputs through the real CLI: encodings, stdin, folders, bad files among good."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from translate.cli import app

TEXT = "Город Хама освобожден. Он заявил: «Мы идем. Хомс ждет».\n\nВ 2024 г. ген. Иванов ушел.\n"
SENTENCES = ["Город Хама освобожден.", "Он заявил: «Мы идем. Хомс ждет».",
             "В 2024 г. ген. Иванов ушел."]


def _rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _translate(runner, model: Path, *args: str, **kwargs):
    return runner.invoke(app, ["translate", *args, "--model", str(model), "--format", "jsonl"],
                         **kwargs)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "koi8-r"])
def test_each_encoding_is_translated_with_the_russian_intact(
        encoding: str, tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    text = TEXT.replace("«", '"').replace("»", '"') if encoding == "koi8-r" else TEXT
    source = tmp_path / "article.txt"
    source.write_bytes(text.encode(encoding))
    result = _translate(runner, tiny_model, str(source))
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    expected = [s.replace("«", '"').replace("»", '"') if encoding == "koi8-r" else s
                for s in SENTENCES]
    assert [r["ru"] for r in rows] == expected
    assert [r["paragraph"] for r in rows] == [0, 0, 1]
    assert all(text[r["start"]:r["end"]] == r["ru"] for r in rows)


def test_stdin(tiny_model: Path, db: Path, runner) -> None:
    result = _translate(runner, tiny_model, "-", input=TEXT.encode("cp1251"))
    assert result.exit_code == 0, result.output
    assert [r["ru"] for r in _rows(result.stdout)] == SENTENCES


def test_a_folder_is_searched_recursively_for_the_suffixes_read(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    folder = tmp_path / "articles"
    files = {"b.txt": "Второй текст.", "a.md": "Первый текст.", "sub/c.txt": "Третий текст.",
             "sub/notes.csv": "не,текст", "sub/page.html": "<p>Страница тоже.</p>",
             "sub/data.json": '{"не": "этот"}'}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    result = _translate(runner, tiny_model, str(folder))
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [(r["doc"], r["ru"]) for r in rows] == [
        (1, "Первый текст."), (2, "Второй текст."), (3, "Третий текст."), (4, "Страница тоже.")]


def test_a_bad_file_in_a_folder_is_reported_at_the_end_and_the_others_are_stored(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "1-good.txt").write_bytes("Первый текст.".encode("cp1251"))
    (folder / "2-scan.txt").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    (folder / "3-empty.md").write_bytes(b"")
    (folder / "4-good.md").write_bytes("Второй текст.".encode("koi8-r"))
    result = _translate(runner, tiny_model, str(folder))
    assert result.exit_code == 2
    assert [r["ru"] for r in _rows(result.stdout)] == ["Первый текст.", "Второй текст."]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "2-scan.txt: this is a PDF document" in errors[0]
    assert "3-empty.md: empty file" in errors[1]
    assert "Traceback" not in result.output

    listed = runner.invoke(app, ["list", "--json"])
    assert [Path(d["path"]).name for d in json.loads(listed.stdout)] == ["1-good.txt",
                                                                         "4-good.md"]


@pytest.mark.parametrize(("data", "message"), [
    ("Die Größe der Übung ist für Mädchen schön.".encode("latin-1"), "Latin letters"),
    ("Город.\n".encode() + "Хама.\n".encode("cp1251"), "bad.txt:2: this line is not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
])
def test_a_single_bad_file_is_one_line_and_exit_2(data: bytes, message: str, tiny_model: Path,
                                                  db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "bad.txt"
    source.write_bytes(data)
    result = _translate(runner, tiny_model, str(source))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.output
