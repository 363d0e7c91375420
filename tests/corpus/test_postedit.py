"""Post-editing: a correction becomes the current translation, the history keeps every version,
and the commands work from the CLI (with the text or through $EDITOR)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from corpus.errors import ArchiveError
from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

BEAM4 = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
BEAM1 = System("opus-mt-ru-en", "abc", "transformers", {"beam": 1})
DOC = Document("a.txt", "Хама", "Хама освобождена. Хомс ждет.")
PAIRS = [SentencePair(None, 0, 0, "Хама освобождена.", "Hama is free.", start=0, end=17),
         SentencePair(None, 1, 0, "Хомс ждет.", "Homs waits.", start=18, end=28)]


@pytest.fixture
def archive(db: Path) -> Archive:
    archive = Archive(db)
    archive.save_document(DOC, PAIRS, BEAM4)
    yield archive
    archive.close()


def _current(archive: Archive) -> list[str]:
    return [p.en for p in archive.pairs(1)]


def test_post_edit_becomes_current_and_stays_current_after_new_mt(archive: Archive) -> None:
    assert archive.post_edit(1, 0, "Hama has been liberated.")
    assert _current(archive) == ["Hama has been liberated.", "Homs waits."]
    assert [p.origin for p in archive.pairs(1)] == ["post-edit", "mt"]
    # a later machine translation by another system does not displace the human one
    archive.save_document(DOC, [SentencePair(**{**p.__dict__, "en": p.en.upper()})
                                for p in PAIRS], BEAM1)
    assert _current(archive) == ["Hama has been liberated.", "HOMS WAITS."]


def test_the_newest_post_edit_wins_and_history_keeps_all(archive: Archive) -> None:
    archive.post_edit(1, 0, "Hama has been liberated.")
    archive.post_edit(1, 0, "Hama was liberated.")
    history = [e for e in archive.history(1) if e.index == 0]
    assert [(e.kind, e.en, e.current) for e in history] == [
        ("mt", "Hama is free.", False),
        ("post-edit", "Hama has been liberated.", False),
        ("post-edit", "Hama was liberated.", True)]
    assert history[0].system == BEAM4.signature and history[1].system == ""
    assert _current(archive)[0] == "Hama was liberated."


def test_unchanged_or_empty_edits_store_nothing(archive: Archive) -> None:
    assert not archive.post_edit(1, 1, "Homs waits.")
    with pytest.raises(ArchiveError, match="empty"):
        archive.post_edit(1, 1, "  ")
    assert len(archive.history(1)) == 2


@pytest.mark.parametrize(("doc", "index", "message"), [(9, 0, "no document 9"),
                                                       (1, 7, "no sentence 7")])
def test_editing_a_missing_sentence_names_it(archive: Archive, doc: int, index: int,
                                             message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        archive.post_edit(doc, index, "x")


def test_edit_command_and_show_history(archive: Archive, runner) -> None:
    archive.close()
    result = runner.invoke(app, ["edit", "1", "1", "Homs is waiting."])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["show", "1", "--json"])
    assert [r["en"] for r in json.loads(shown.stdout)] == ["Hama is free.", "Homs is waiting."]
    history = runner.invoke(app, ["show", "1", "--history", "--json"])
    rows = [r for r in json.loads(history.stdout) if r["index"] == 1]
    assert [(r["kind"], r["en"], r["current"]) for r in rows] == [
        ("mt", "Homs waits.", False), ("post-edit", "Homs is waiting.", True)]
    table = runner.invoke(app, ["show", "1", "--history"])
    assert table.exit_code == 0 and "post-edit" in table.stdout


def test_edit_command_opens_the_editor_without_text(archive: Archive, runner, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    archive.close()
    editor = tmp_path / "editor.py"
    editor.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
                      "assert p.read_text().strip() == 'Hama is free.'\n"
                      "p.write_text('Hama is free at last.\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    result = runner.invoke(app, ["edit", "1", "0"])
    assert result.exit_code == 0, result.output
    with Archive(archive.target) as reopened:
        assert _current(reopened)[0] == "Hama is free at last."


def test_edit_command_on_a_missing_sentence_exits_2(archive: Archive, runner) -> None:
    archive.close()
    result = runner.invoke(app, ["edit", "1", "5", "x"])
    assert result.exit_code == 2 and "no sentence 5" in result.stderr
