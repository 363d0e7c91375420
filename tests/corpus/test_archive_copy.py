"""`ruen archive copy`: an archive moved SQLite → PostgreSQL → SQLite keeps every row (same
ids, same order, same values: history, term hits, flags, alternatives, memory sources, eval
runs, metadata), checked through the API and table by table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.copy import TABLES, columns
from corpus.db import is_url
from corpus.store import Archive
from corpus.testing import count, rows
from corpus.types import Alternative, Document, Flag, SentencePair, System, TermStatus
from translate.cli import app

BEAM4 = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
TEXT = ("Город Хама освобождён после «ожесточённых» боёв. Представитель <b>командования</b> "
        "подтвердил это.\n\nМы продолжаем двигаться на юг, к Дамаску.")
SENTENCES = ["Город Хама освобождён после «ожесточённых» боёв.",
             "Представитель <b>командования</b> подтвердил это.",
             "Мы продолжаем двигаться на юг, к Дамаску."]
ENGLISH = ["The city of Hama has been liberated after “fierce” fighting.",
           "A <b>command</b> spokesman confirmed it.", "We continue to move south, to Damascus."]


def _pairs(text: str) -> list[SentencePair]:
    found, start = [], 0
    for index, (ru, en) in enumerate(zip(SENTENCES, ENGLISH, strict=True)):
        start = text.index(ru, start)
        found.append(SentencePair(
            doc=None, index=index, paragraph=0 if index < 2 else 1, ru=ru, en=en,
            start=start, end=start + len(ru), score=-0.4123456789 * (index + 1),
            terms=(TermStatus("Хама", "Hama", "enforced", 12, 16),) if index == 0 else (),
            flags=(Flag("length-ratio", "warning", "short"), Flag("untranslated", "error",
                                                                  "Дамаску")) if index == 2
            else (),
            alternatives=(Alternative("The city of Khama is free.", -0.9, "unconstrained"),)
            if index == 0 else ()))
        start += len(ru)
    return found


def _fill(target: Path | str) -> None:
    """Everything an archive can hold, in the order a desk would make it."""
    with Archive(target) as archive:
        doc = archive.save_document(
            Document(path="hama.html", title="Хама освобождена", text=TEXT,
                     metadata={"url": "https://news.example/hama", "site": "Вестник",
                               "published": "2026-11-30", "author": "Иванов"}),
            _pairs(TEXT), BEAM4)
        archive.post_edit(doc, 1, "A command spokesman confirmed this.", editor="Анна")
        archive.import_document("ref", "ref.tsv", [
            SentencePair(doc=None, index=i, paragraph=0, ru=ru, en=f"Reference {i}.")
            for i, ru in enumerate(SENTENCES)], "reference")
        # the same sentences again in another article: reused from memory (a source id)
        other = "Мы продолжаем двигаться на юг, к Дамаску."
        memory = archive.translation_memory([other], BEAM4)
        [hit] = memory.values()
        archive.save_document(Document(path="b.txt", title="b", text=other), [SentencePair(
            doc=None, index=0, paragraph=0, ru=other, en=hit.en, origin="tm", start=0,
            end=len(other), source_id=hit.translation_id)], BEAM4)
        archive.add_eval_run("BLEU|nrefs:1", {"bleu": 31.4, "chrf": 55.5})


def _everything(target: Path | str) -> dict[str, list[tuple]]:
    """Every table's rows, in stored order, without what a backend computes for itself."""
    with Archive(target, readonly=True) as archive:
        key = "rowid" if archive.backend == "sqlite" else "id"
        tables = {}
        for table in TABLES:
            names = [c for c in columns(archive, table)
                     if c not in ("en_lemmas", "ru_search", "en_search")
                     and not (c == "id" and table in ("term_hits", "qa_flags"))]
            selected = ", ".join(f'"{n}"' for n in names)
            tables[table] = [tuple(r) for r in archive.db.execute(
                f"SELECT {selected} FROM {table} ORDER BY {key}")]
        return tables


def _views(target: Path | str) -> tuple:
    with Archive(target, readonly=True) as archive:
        return (archive.documents(), [archive.document(d.id) for d in archive.documents()],
                archive.history(1), list(archive.pairs(kind="all")), archive.eval_runs(),
                archive.translation_memory(SENTENCES, BEAM4))


def test_copy_there_and_back_keeps_every_row(db: Path | str, postgres, tmp_path: Path,
                                             runner) -> None:
    """From the `db` backend to the other one and back to a new file."""
    _fill(db)
    other = tmp_path / "other.db" if is_url(db) else postgres.new_archive()
    back = tmp_path / "back.db"
    there = runner.invoke(app, ["archive", "copy", str(db), str(other), "--json"])
    assert there.exit_code == 0, there.output
    report = json.loads(there.stdout)
    assert report["rows"] == {t: count(db, t) for t in TABLES}
    assert report["rows"]["term_hits"] == 1 and report["rows"]["qa_flags"] == 2
    assert report["rows"]["translation_alternatives"] == 1
    again = runner.invoke(app, ["archive", "copy", str(other), str(back)])
    assert again.exit_code == 0, again.output
    assert "translations" in again.stdout
    original = _everything(db)
    assert _everything(other) == original
    assert _everything(back) == original
    assert _views(other) == _views(db) == _views(back)
    with Archive(db) as a, Archive(other) as b:  # memory sources: the same translations
        sources = [p.source_id for p in a.pairs(2)]
        assert sources[0] is not None and [p.source_id for p in b.pairs(2)] == sources


def test_a_copy_goes_on_numbering_after_the_copied_ids(db: Path | str, postgres,
                                                       tmp_path: Path, runner) -> None:
    _fill(db)
    other = tmp_path / "other.db" if is_url(db) else postgres.new_archive()
    assert runner.invoke(app, ["archive", "copy", str(db), str(other)]).exit_code == 0
    with Archive(other) as archive:
        new = archive.save_document(Document(path="c.txt", title="c", text="Хомс ждёт."), [
            SentencePair(doc=None, index=0, paragraph=0, ru="Хомс ждёт.", en="Homs waits.",
                         start=0, end=10)], BEAM4)
        assert new == 3
        assert archive.add_eval_run("x", {}) == 2


def test_copy_refuses_an_archive_that_is_not_empty(db: Path | str, tmp_path: Path,
                                                   runner) -> None:
    _fill(db)
    full = tmp_path / "full.db"
    _fill(full)
    before = _everything(full)
    result = runner.invoke(app, ["archive", "copy", str(db), str(full)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {full}: not empty (2 document(s), 1 eval run(s))")
    assert len(result.stderr.splitlines()) == 1
    assert _everything(full) == before


def test_copy_of_a_missing_archive_is_one_error_and_makes_nothing(tmp_path: Path,
                                                                   runner) -> None:
    result = runner.invoke(app, ["archive", "copy", str(tmp_path / "none.db"),
                                 str(tmp_path / "new.db")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'none.db'}: no archive here; translate " \
                            "something into it first.\n"
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("table", ["translations", "qa_flags"])
def test_a_failed_copy_leaves_the_destination_empty(table: str, pg_db: str, tmp_path: Path,
                                                    runner) -> None:
    """A row the destination refuses half-way (here: a CHECK the source did not have) rolls
    the whole copy back."""
    source = tmp_path / "a.db"
    _fill(source)
    with Archive(pg_db) as archive:
        column = "en" if table == "translations" else "message"
        archive.db.execute(f"ALTER TABLE {table} ADD CONSTRAINT no_dots"
                           f" CHECK ({column} NOT LIKE '%Damascus%'"
                           f" AND {column} NOT LIKE '%Дамаску%')")
    result = runner.invoke(app, ["archive", "copy", str(source), pg_db])
    assert result.exit_code != 0
    assert all(count(pg_db, t) == 0 for t in TABLES)
    assert rows(pg_db, "SELECT count(*) FROM documents") == [(0,)]
