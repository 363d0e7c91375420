"""Post-edits record who made them, and a save made on a translation that is no longer the
current one stores nothing and hands back both texts (two reviewers on one sentence)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from corpus.errors import EditConflict
from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

SYSTEM = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
DOC = Document("a.txt", "Хама", "Хама освобождена. «Хомс» ждет.")
PAIRS = [SentencePair(None, 0, 0, "Хама освобождена.", "Hama is free.", start=0, end=17),
         SentencePair(None, 1, 0, "«Хомс» ждет.", "\"Homs\" waits.", start=18, end=30)]


@pytest.fixture
def archive(db: Path) -> Archive:
    archive = Archive(db)
    archive.save_document(DOC, PAIRS, SYSTEM)
    yield archive
    archive.close()


def test_second_save_from_the_same_version_is_a_conflict_with_both_texts(archive: Archive
                                                                         ) -> None:
    seen = archive.current_version(1, 0)
    assert archive.post_edit(1, 0, "Hama has been liberated.", editor="anna", version=seen)
    with pytest.raises(EditConflict) as caught:
        archive.post_edit(1, 0, "Hama is liberated.", editor="boris", version=seen)
    assert caught.value.theirs == "Hama has been liberated."
    assert caught.value.yours == "Hama is liberated."
    assert caught.value.version == archive.current_version(1, 0) != seen
    assert [p.en for p in archive.pairs(1)] == ["Hama has been liberated.", "\"Homs\" waits."]
    # saving again from the version now current goes through
    assert archive.post_edit(1, 0, "Hama is liberated.", editor="boris",
                             version=caught.value.version)
    history = [e for e in archive.history(1) if e.index == 0]
    assert [(e.kind, e.en, e.editor) for e in history] == [
        ("mt", "Hama is free.", None), ("post-edit", "Hama has been liberated.", "anna"),
        ("post-edit", "Hama is liberated.", "boris")]


def test_the_same_text_from_a_stale_version_is_no_conflict(archive: Archive) -> None:
    seen = archive.current_version(1, 1)
    assert archive.post_edit(1, 1, "“Homs” is waiting.", version=seen)
    assert not archive.post_edit(1, 1, "“Homs” is waiting.", version=seen)


def test_migration_8_adds_the_editor_to_an_older_archive(sqlite_db: Path) -> None:
    with Archive(sqlite_db) as archive:
        archive.save_document(DOC, PAIRS, SYSTEM)
    with sqlite3.connect(sqlite_db) as raw:  # as ruen 7 left it
        raw.execute("ALTER TABLE translations DROP COLUMN editor")
        raw.execute("PRAGMA user_version = 7")
    with Archive(sqlite_db) as upgraded:
        assert upgraded.post_edit(1, 0, "Hama was freed.", editor="anna")
        assert [e.editor for e in upgraded.history(1) if e.index == 0] == [None, "anna"]


def test_edit_command_stores_the_editor_given_or_the_user(archive: Archive, runner,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    archive.close()
    monkeypatch.setenv("USER", "vera")
    monkeypatch.setenv("LOGNAME", "vera")
    assert runner.invoke(app, ["edit", "1", "0", "Hama is free now."]).exit_code == 0
    assert runner.invoke(app, ["edit", "1", "1", "Homs waits still.", "--editor",
                               "Анна Иванова"]).exit_code == 0
    history = json.loads(runner.invoke(app, ["show", "1", "--history", "--json"]).stdout)
    assert [r["editor"] for r in history if r["kind"] == "post-edit"] == ["vera",
                                                                          "Анна Иванова"]
    table = runner.invoke(app, ["show", "1", "--history"], env={"COLUMNS": "200"})
    assert "by Анна Иванова" in table.stdout
