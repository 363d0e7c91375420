"""Model confidence: each machine translation's length-normalised log-probability is stored
with it (migration 4), shown by `show --json` and export, and `qa --db` sorts and flags by it."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from corpus.store import MIGRATIONS, Archive
from corpus.types import Document, Hypothesis, SentencePair, System
from translate.cli import app
from translate.engine import DecodeSettings, load_engine
from translate.glossary.core import Glossary
from translate.glossary.entries import Entry
from translate.model import resolve_model
from translate.pipeline import Pipeline
from translate.testing import EchoEngine

TEXT = "Город Хама освобожден. Силы режима отступают.\n\nMoscow 2026.\n"


@pytest.mark.parametrize("backend", ["transformers", "ctranslate2"])
def test_each_translation_keeps_its_hypothesis_score(backend: str, tiny_model: Path,
                                                     db: Path | str) -> None:
    engine = load_engine(resolve_model(str(tiny_model)), backend)
    settings = DecodeSettings(beam=2)
    with Archive(db) as archive:
        result = Pipeline(engine, settings, archive=archive).translate_document(
            Document("a.txt", "a", TEXT))
        stored = list(archive.pairs(result.doc_id))
    sources = [p.ru for p in stored[:2]]
    [expected] = list(engine.translate_batches([sources], settings))
    assert [p.score for p in stored[:2]] == pytest.approx([h.score for h in expected], abs=1e-5)
    assert all(s < 0 for s in (p.score for p in stored[:2]))
    assert stored[2].origin == "copy" and stored[2].score is None  # no model, no score


def test_memory_and_post_edits_carry_no_score(db: Path | str) -> None:
    with Archive(db) as archive:
        pipeline = Pipeline(EchoEngine(), archive=archive)
        pipeline.translate_document(Document("a.txt", "a", "Хама взята."))
        again = pipeline.translate_document(Document("b.txt", "b", "Хама взята.\n\nТочно."))
        assert [(p.origin, p.score) for p in again.pairs] == [("tm", None), ("mt", 0.0)]
        archive.post_edit(1, 0, "Hama was taken.")
        [edited] = archive.pairs(1)
        assert edited.origin == "post-edit" and edited.score is None


def test_a_constrained_decode_that_is_kept_gives_its_score(db: Path | str) -> None:
    class Forcing(EchoEngine):
        supports_constraints = True

        def translate_constrained_batch(self, requests, settings) -> list[Hypothesis]:
            return [Hypothesis(f"{r.sentence.upper()} "
                               f"{' '.join(c.target for c in r.constraints)}", score=-1.5)
                    for r in requests]

    glossary = Glossary([Entry("Хама", "Hama")])
    with Archive(db) as archive:
        result = Pipeline(Forcing(), glossary=glossary, archive=archive).translate_document(
            Document("a.txt", "a", "Хама взята.\n\nХомс тих."))
        stored = list(archive.pairs(result.doc_id))
    assert [(p.en, p.score) for p in stored] == [("ХАМА ВЗЯТА. Hama", -1.5),  # forced, kept
                                                 ("ХОМС ТИХ.", 0.0)]          # never forced


def test_an_archive_from_before_scores_is_upgraded_keeping_its_translations(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for number, migration in enumerate(MIGRATIONS[:2], start=1):
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO documents (path, title, sha256, text, created) VALUES "
                   "('a.txt', 'a', 'x', 'Хама.', 'now')")
        db.execute("INSERT INTO segments (doc_id, idx, paragraph, start, \"end\", ru, ru_norm) "
                   "VALUES (1, 0, 0, 0, 5, 'Хама.', 'хама.')")
        db.execute("INSERT INTO translations (segment_id, kind, en, created) "
                   "VALUES (1, 'mt', 'Hama.', 'now')")
    with Archive(path) as archive:
        [pair] = archive.pairs(1)
    assert (pair.en, pair.score) == ("Hama.", None)


def _scored_archive(db: Path) -> None:
    pairs = [SentencePair(None, i, 0, ru, en, start=0, end=len(ru), score=score)
             for i, (ru, en, score) in enumerate([
                 ("Хама взята.", "Hama was taken.", -0.4),
                 ("Хомс взят.", "Homs homs taken.", -2.7),
                 ("Идлиб тих.", "Idlib is quiet.", -1.6),
                 ("Дараа пала.", "Daraa fell.", None)])]  # e.g. from memory
    with Archive(db) as archive:
        archive.save_document(Document("a.txt", "a", "text"), pairs, System("m"))


def test_qa_flags_and_sorts_by_confidence_lowest_first(db: Path, runner) -> None:
    _scored_archive(db)
    result = runner.invoke(app, ["qa", "--min-score", "-1.5", "--sort", "score", "--json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["index"], f["score"]) for f in findings] == [(1, -2.7), (2, -1.6)]
    assert all("low-confidence" in {x["check"] for x in f["flags"]} for f in findings)
    text = runner.invoke(app, ["qa", "--min-score", "-1.5", "--sort", "score"]).stdout
    assert text.index("Homs homs") < text.index("Idlib is quiet")
    assert "(score -2.70)" in text
    assert runner.invoke(app, ["qa", "--min-score", "-1.5", "--fail-on",
                               "warning"]).exit_code == 1
    assert runner.invoke(app, ["qa", "--min-score", "-3", "--check", "empty",
                               "--fail-on", "warning"]).exit_code == 0


def test_min_score_is_for_the_archive(tmp_path: Path, runner) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("Хама взята.\tHama was taken.\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", str(pairs), "--min-score", "-1"])
    assert result.exit_code == 2 and "--min-score works on the archive" in result.stderr


def test_show_json_and_exports_carry_the_score(db: Path, runner) -> None:
    _scored_archive(db)
    shown = json.loads(runner.invoke(app, ["show", "1", "--json"]).stdout)
    assert [p["score"] for p in shown] == [-0.4, -2.7, -1.6, None]
    exported = runner.invoke(app, ["export", "--format", "jsonl"]).stdout.splitlines()
    assert [json.loads(line)["score"] for line in exported] == [-0.4, -2.7, -1.6, None]
    tmx = runner.invoke(app, ["export", "--format", "tmx"]).stdout
    assert re.findall(r'<prop type="x-ruen-score">([^<]*)</prop>', tmx) == [
        "-0.4000", "-2.7000", "-1.6000"]
