"""The archive: what is really in the database after storing documents and translations."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.db import integrity_errors
from corpus.schema import SCHEMA_VERSION
from corpus.store import Archive
from corpus.testing import count, rows
from corpus.types import Document, Flag, SentencePair, System, TermStatus

DOC = Document(path="a.txt", title="a", text="Хама освобождена. Хомс ждет.")
PAIRS = [
    SentencePair(doc=None, index=0, paragraph=0, ru="Хама освобождена.", en="Hama is free.",
                 start=0, end=17,
                 terms=(TermStatus("Хама", "Hama", "ok", 0, 4),),
                 flags=(Flag("length-ratio", "info", "short"),)),
    SentencePair(doc=None, index=1, paragraph=0, ru="Хомс ждет.", en="Homs waits.",
                 start=18, end=28),
]
BEAM4 = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
BEAM1 = System("opus-mt-ru-en", "abc", "transformers", {"beam": 1})


_count = count
Target = Path | str  # an SQLite file or a PostgreSQL URL: the `db` fixture gives both


def test_new_archive_is_wal_with_foreign_keys_and_schema_version(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert archive.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_new_postgresql_archive_records_every_migration(pg_db: str) -> None:
    from corpus import pg_schema

    with Archive(pg_db):
        pass
    assert [v for v, in rows(pg_db, "SELECT version FROM ruen_schema ORDER BY version")] == \
        list(range(1, pg_schema.SCHEMA_VERSION + 1))
    foreign = rows(pg_db, "SELECT count(*) FROM information_schema.table_constraints"
                          " WHERE constraint_type = 'FOREIGN KEY'"
                          " AND table_schema = current_schema()")[0][0]
    assert foreign >= 6  # segments, translations (3), term_hits, qa_flags, alternatives


def test_same_document_twice_is_stored_once(db: Target) -> None:
    path = db
    with Archive(path) as archive:
        first = archive.save_document(DOC, PAIRS, BEAM4)
        second = archive.save_document(DOC, PAIRS, BEAM4)
    assert first == second
    assert (_count(path, "documents"), _count(path, "segments"),
            _count(path, "translations")) == (1, 2, 2)


def test_new_settings_add_a_translation_beside_the_old_one(db: Target) -> None:
    path = db
    other = [SentencePair(**{**p.__dict__, "en": p.en.upper()}) for p in PAIRS]
    with Archive(path) as archive:
        doc = archive.save_document(DOC, PAIRS, BEAM4)
        archive.save_document(DOC, other, BEAM1)
        assert [p.en for p in archive.pairs(doc, system=BEAM4)] == ["Hama is free.", "Homs waits."]
        assert [p.en for p in archive.pairs(doc)] == ["HAMA IS FREE.", "HOMS WAITS."]
    assert _count(path, "translations") == 4 and _count(path, "systems") == 2


def test_a_document_stored_again_with_one_sentence_changed_adds_just_that_translation(
        db: Target) -> None:
    """The sentences of a document are stored in one statement on PostgreSQL: the one new
    translation must get its own flags, not those of a sentence stored before."""
    long = Flag("length-ratio", "warning", "long")
    changed = [PAIRS[0], SentencePair(**{**PAIRS[1].__dict__, "en": "Homs is still waiting.",
                                          "flags": (long,)})]
    with Archive(db) as archive:
        doc = archive.save_document(DOC, PAIRS, BEAM4)
        archive.save_document(DOC, changed, BEAM4)
        stored = list(archive.pairs(doc))
    assert [p.en for p in stored] == ["Hama is free.", "Homs is still waiting."]
    assert [p.flags for p in stored] == [PAIRS[0].flags, (long,)]
    assert (_count(db, "translations"), _count(db, "qa_flags")) == (3, 2)


def test_terms_flags_and_offsets_come_back_as_stored(db: Target) -> None:
    with Archive(db) as archive:
        doc = archive.save_document(DOC, PAIRS, BEAM4)
        stored = list(archive.pairs(doc))
    assert stored[0].terms == PAIRS[0].terms and stored[0].flags == PAIRS[0].flags
    assert [(p.start, p.end) for p in stored] == [(0, 17), (18, 28)]
    assert DOC.text[stored[1].start:stored[1].end] == stored[1].ru


def test_a_failing_document_leaves_nothing_half_written(db: Target) -> None:
    path = db
    broken = [*PAIRS, SentencePair(doc=None, index=0, paragraph=0, ru="x", en=None)]  # type: ignore[arg-type]
    with Archive(path) as archive, pytest.raises(integrity_errors()):
        archive.save_document(DOC, broken, BEAM4)
    assert (_count(path, "documents"), _count(path, "segments")) == (0, 0)


def test_translation_memory_prefers_post_edits_and_ignores_other_systems(db: Target) -> None:
    with Archive(db) as archive:
        archive.save_document(DOC, PAIRS, BEAM4)
        assert {k: h.en for k, h in archive.translation_memory(["ХАМА  освобождена."],
                                                                BEAM4).items()} == {
            "хама освобождена.": "Hama is free."}
        assert archive.translation_memory(["Хама освобождена."], BEAM1) == {}
        edited = [SentencePair(**{**PAIRS[0].__dict__, "en": "Hama has been freed."})]
        archive.save_document(DOC, edited, BEAM4, kind="post-edit")
        [hit] = archive.translation_memory(["Хама освобождена."], BEAM4).values()
        assert (hit.en, hit.kind) == ("Hama has been freed.", "post-edit")


def test_reading_with_an_unknown_system_adds_nothing(db: Target) -> None:
    path = db
    with Archive(path) as archive:
        doc = archive.save_document(DOC, PAIRS, BEAM4)
    with Archive(path, readonly=True) as archive:  # a read must not need to write
        assert archive.translation_memory(["Хама освобождена."], BEAM1) == {}
        assert list(archive.pairs(doc, system=BEAM1)) == []
    assert _count(path, "systems") == 1
