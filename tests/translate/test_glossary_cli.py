"""`ruen glossary check|list|add|audit` and the glossary in `ruen translate`, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from translate.cli import app
from translate.glossary import load_glossary

ARTICLE = ("Повстанцы вошли в Хаму. Командованием военных операций руководит совет.\n\n"
           "Мы продолжаем двигаться на юг.\n")


def _jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_check_json_lists_terms_with_spans_and_targets(tmp_path: Path, runner) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    mine = tmp_path / "mine.tsv"
    mine.write_text("ru\ten\nсовет\tcouncil\n", encoding="utf-8")
    result = runner.invoke(app, ["glossary", "check", str(source), "--glossary", str(mine),
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["index"] for r in rows] == [0, 1, 2]
    assert [(t["ru"], t["en"]) for t in rows[0]["terms"]] == [("Хаму", "Hama")]
    second = rows[1]["terms"]
    assert [(t["ru"], t["en"]) for t in second] == [
        ("Командованием военных операций", "Military Operations Command"),
        ("совет", "council")]
    assert all(rows[1]["ru"][t["start"]:t["end"]] == t["ru"] for t in second)
    assert second[1]["origin"] == f"{mine}:2"
    assert rows[2]["terms"] == []


def test_no_glossary_leaves_only_the_given_files(tmp_path: Path, runner) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    result = runner.invoke(app, ["glossary", "check", str(source), "--no-glossary", "--json"])
    assert result.exit_code == 0, result.output
    assert all(r["terms"] == [] for r in json.loads(result.stdout))


def test_later_glossary_files_win(tmp_path: Path, runner) -> None:
    first, second = tmp_path / "first.tsv", tmp_path / "second.csv"
    first.write_text("ru\ten\nХама\tHamah\n", encoding="utf-8")
    second.write_text("ru,en,note\nХама,Hama City,from the second file\n", encoding="utf-8")
    result = runner.invoke(app, ["glossary", "list", "-g", str(first), "-g", str(second),
                                 "--json"])
    assert result.exit_code == 0, result.output
    hama = [e for e in json.loads(result.stdout) if e["ru"] == "Хама"]
    assert [(e["en"], e["origin"]) for e in hama] == [("Hama City", f"{second}:2")]


def test_list_shows_the_default_glossary_with_forms(runner) -> None:
    result = runner.invoke(app, ["glossary", "list", "--json", "--forms"])
    assert result.exit_code == 0, result.output
    entries = {e["ru"]: e for e in json.loads(result.stdout)}
    assert entries["КМО"]["en"] == "MOC"
    assert "Хамой" in entries["Хама"]["forms"]
    text = runner.invoke(app, ["glossary", "list"])
    assert "Military Operations Command" in text.stdout


def test_add_writes_the_user_glossary_used_by_later_commands(user_glossary: Path,
                                                            runner) -> None:
    result = runner.invoke(app, ["glossary", "add", "Абу Мухаммад аль-Джулани",
                                 "Abu Mohammed al-Julani", "--variant", "Abu Muhammad al-Jolani"])
    assert result.exit_code == 0, result.output
    assert "added" in result.stderr
    assert user_glossary.exists()
    again = runner.invoke(app, ["glossary", "add", "Абу Мухаммад аль-Джулани",
                                "Abu Mohammed al-Julani", "--variant", "Abu Muhammad al-Jolani"])
    assert "unchanged" in again.stderr
    changed = runner.invoke(app, ["glossary", "add", "Абу Мухаммад аль-Джулани", "al-Julani"])
    assert "updated" in changed.stderr
    glossary = load_glossary()
    [match] = glossary.match("Слова Абу Мухаммада аль-Джулани передали.")
    assert (match.surface, match.entry.en) == ("Абу Мухаммада аль-Джулани", "al-Julani")


def test_broken_glossary_is_one_line_naming_file_and_line(tmp_path: Path, runner) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("ru\ten\nХама\tHama\nХомс\n", encoding="utf-8")
    result = runner.invoke(app, ["glossary", "list", "--glossary", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3" in result.stderr
    assert "Traceback" not in result.output


def test_translate_jsonl_carries_terms_and_audit_counts_renderings(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "a.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    mine = tmp_path / "mine.tsv"
    # targets the tiny vocabulary can spell, so the constraint can place them
    mine.write_text("ru\ten\nКомандование военных операций\tthe command\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--format", "jsonl", "--glossary", str(mine)])
    assert result.exit_code == 0, result.output
    rows = _jsonl(result.stdout)
    assert rows[0]["terms"] == [{"ru": "Хаму", "en": "Hama", "status": "enforced"}]
    assert "Hama" in rows[0]["en"]
    assert rows[1]["terms"] == [{"ru": "Командованием военных операций", "en": "the command",
                                 "status": "enforced"}]
    assert rows[2]["terms"] == []

    audit = runner.invoke(app, ["glossary", "audit", "--glossary", str(mine), "--json"])
    assert audit.exit_code == 0, audit.output
    found = {a["ru"]: a for a in json.loads(audit.stdout)}
    assert set(found) == {"Хама", "Командование военных операций"}
    assert found["Хама"]["sentences"] == 1
    assert found["Хама"]["renderings"] == [{"en": "Hama", "count": 1}]
    assert found["Хама"]["consistent"] is True

    plain = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                "--format", "jsonl", "--no-glossary", "--no-archive"])
    assert plain.exit_code == 0, plain.output
    assert all(r["terms"] == [] for r in _jsonl(plain.stdout))


def test_check_reads_a_word_document_as_translate_does(tmp_path: Path, runner) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Бои у Хомса", level=1)
    document.add_paragraph("Повстанцы вошли в пригороды Хомса после ночных боев.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Командованием военных операций руководит совет."
    table.rows[0].cells[1].text = "Дараа молчит."
    path = tmp_path / "notes.docx"
    document.save(str(path))
    result = runner.invoke(app, ["glossary", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found = [t["en"] for row in json.loads(result.stdout) for t in row["terms"]]
    assert found == ["Homs", "Homs", "Military Operations Command", "Daraa"]


def test_check_reads_a_long_file_part_by_part(tmp_path: Path) -> None:
    from corpus.sources import SourceOptions, read_texts
    from translate.segment import segment

    source = tmp_path / "long.txt"
    text = "".join(f"Повстанцы вошли в Хаму в {n}-й раз.\n\n" for n in range(200))
    source.write_text(text, encoding="utf-8")
    parts = list(read_texts(str(source), SourceOptions(part_chars=1000)))
    assert len(parts) > 1  # read as a LongDocument, which has no text of its own
    assert [s.ru for part in parts for s in segment(part)] == [s.ru for s in segment(text)]
