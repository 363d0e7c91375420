"""Every kind of translation visible and exportable, byte-stable round trips for each kind,
provenance of translation-memory hits, and one document per article."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.store import MIGRATIONS, Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app
from translate.pipeline import Pipeline
from translate.testing import EchoEngine

MT = System("opus-mt-ru-en", "abc", "ctranslate2", {"beam": 4, "glossary": "46fb375ac0c4"})
# An OmegaT project memory as OmegaT 6 writes it (TMX 1.4, region tags, its own props).
OMEGAT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
  <header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext"
   creationtoolversion="6.0.0_0_1bf1729c" segtype="sentence" srclang="ru-RU"/>
  <body>
<!-- Default translations -->
    <tu>
      <tuv lang="ru-RU">
        <seg>Силы режима отступают к Хомсу.</seg>
      </tuv>
      <tuv lang="en-US" changeid="anna" changedate="20261120T101500Z" creationid="anna"
       creationdate="20261120T101500Z">
        <seg>Regime forces are retreating towards Homs.</seg>
      </tuv>
    </tu>
    <tu>
      <tuv lang="ru-RU">
        <seg>Город Хама освобожден.</seg>
      </tuv>
      <tuv lang="en-US" changeid="anna" changedate="20261120T101700Z">
        <seg>The city of Hama has been liberated.</seg>
      </tuv>
    </tu>
  </body>
</tmx>
"""
ARTICLE = ("Город Хама освобожден. Силы режима отступают к Хомсу.\n\n"
           "Жители возвращаются в свои дома.\n")


def _invoke(runner, *args: str, ok: bool = True):
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})  # tables unwrapped
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- the new user


def test_an_imported_memory_is_visible_everywhere(tmp_path: Path, db: Path, runner) -> None:
    memory = tmp_path / "memory.tmx"
    memory.write_text(OMEGAT, encoding="utf-8")
    imported = _invoke(runner, "import", str(memory))
    assert imported.stderr == f"{memory}: 2 reference translation(s) into new document 1\n"

    shown = _invoke(runner, "show", "1", "--json")
    assert [(r["en"], r["kind"]) for r in json.loads(shown.stdout)] == [
        ("Regime forces are retreating towards Homs.", "reference"),
        ("The city of Hama has been liberated.", "reference")]
    table = _invoke(runner, "show", "1")
    assert "reference" in table.stdout and "liberated" in table.stdout

    exported = _invoke(runner, "export", "--format", "tmx")
    assert exported.stdout.count("<tu ") == 2
    assert '<prop type="x-ruen-kind">reference</prop>' in exported.stdout

    # quality checks and the audit see references only when asked
    qa = json.loads(_invoke(runner, "qa", "--db", str(db), "--json").stdout)
    assert qa["checked"] == 0
    qa = json.loads(_invoke(runner, "qa", "--db", str(db), "--references", "--json").stdout)
    assert qa["checked"] == 2
    audit = json.loads(_invoke(runner, "glossary", "audit", "--references", "--json").stdout)
    hama = next(a for a in audit if a["en"] == "Hama")
    assert hama["sentences"] == 1 and hama["renderings"] == [{"en": "Hama", "count": 1}]
    assert json.loads(_invoke(runner, "glossary", "audit", "--json").stdout) == []


def test_show_prefers_post_edit_then_mt_then_reference(db: Path | str, tmp_path: Path) -> None:
    with Archive(db) as archive:
        sentences = ["Один.", "Два.", "Три."]
        archive.import_document("a", "ref.tsv", [SentencePair(None, i, 0, ru, f"Ref {i}")
                                                 for i, ru in enumerate(sentences)], "reference")
        outcome = archive.import_document("a", "mt.tmx", [  # machine translations of two
            SentencePair(None, i, 0, sentences[i], f"MT {i}", kind="mt", system=MT.signature)
            for i in (0, 2)])
        doc = outcome.doc_id
        assert outcome.new_document is False
        archive.post_edit(doc, 0, "Edited 0")
        shown = [(p.en, p.kind) for p in archive.pairs(doc, fallback_reference=True)]
        assert shown == [("Edited 0", "post-edit"), ("Ref 1", "reference"), ("MT 2", "mt")]
        assert [p.en for p in archive.pairs(doc)] == ["Edited 0", "MT 2"]  # eval's hypotheses
        assert [p.en for p in archive.pairs(doc, kind="reference")] == ["Ref 0", "Ref 1",
                                                                        "Ref 2"]
        assert [(p.index, p.kind) for p in archive.pairs(doc, kind="all")] == [
            (0, "reference"), (0, "mt"), (0, "post-edit"), (1, "reference"), (2, "reference"),
            (2, "mt")]
        assert {p.system for p in archive.pairs(doc, kind="mt")} == {MT.signature}
        assert [e.current for e in archive.history(doc) if e.index == 1] == [True]


# ---------------------------------------------------------------- round trips, every kind


def _mixed_archive(path: Path) -> None:
    """Machine translations, a post-edit, references, a copy from memory, two documents."""
    with Archive(path) as archive:
        rows = [("Город Хама освобожден.", "Hama city is free."),
                ("Бои идут\tу «Хомса» & <на юге>.", "Fighting\tnear \"Homs\" & <south>."),
                ("Строка\nс переводом\r\nстроки.", "Line\nwith a\r\nbreak.")]
        pairs = [SentencePair(None, i, i // 2, ru, en) for i, (ru, en) in enumerate(rows)]
        text = "Город Хама освобожден. Бои идут."
        doc = archive.save_document(Document("a.txt", "Статья «один»", text), pairs, MT)
        archive.import_document("x", "ref.tmx", [SentencePair(None, i, 0, ru, "Ref: " + en)
                                                 for i, (ru, en) in enumerate(rows)],
                                "reference")
        archive.post_edit(doc, 1, "Fighting goes on near Homs.")
        archive.post_edit(doc, 1, "Fights go on near Homs.")
        pipeline = Pipeline(EchoEngine(), archive=archive)
        pipeline.translate_document(Document("b.txt", "Вторая", "Бои идут\tу «Хомса» & "
                                             "<на юге>. Новое предложение."))


@pytest.mark.parametrize("fmt", ["tmx", "jsonl"])
@pytest.mark.parametrize("kind", ["current", "mt", "post-edit", "reference", "all"])
def test_export_import_export_is_byte_stable_for_every_kind(
        db: Path | str, tmp_path: Path, runner, fmt: str, kind: str) -> None:
    _mixed_archive(db)
    previous = None
    for step in ("a", "b", "c"):
        out = tmp_path / step / f"export.{fmt}"
        out.parent.mkdir(exist_ok=True)
        # the first archive is on each backend in turn, its copies are files
        source = db if step == "a" else tmp_path / f"{step}.db"
        _invoke(runner, "export", "--db", str(source), "--format", fmt,
                "--kind", kind, "-o", str(out))
        data = out.read_bytes()
        assert data.strip(), "nothing exported"
        if previous is not None:
            assert data == previous, f"{step}: export differs from the one imported"
        if step != "c":
            _invoke(runner, "import", str(out), "--db", str(tmp_path / f"{chr(ord(step) + 1)}.db"))
        # jsonl of "a" has the article's offsets and memory sources; imports have their own
        previous = data if step != "a" or fmt == "tmx" else None
    if kind == "all":
        rows = _jsonl((tmp_path / "c" / f"export.{fmt}").read_text(encoding="utf-8")) \
            if fmt == "jsonl" else None
        if rows is not None:
            assert {r["kind"] for r in rows} == {"mt", "post-edit", "reference"}


@pytest.mark.parametrize("kind", ["post-edit", "reference"])
def test_tsv_round_trip_is_byte_stable(db: Path | str, tmp_path: Path, runner, kind: str) -> None:
    _mixed_archive(db)
    exports = []
    for step, following in (("a", "b"), ("b", "c"), ("c", None)):
        out = tmp_path / f"{step}.tsv"
        source = db if step == "a" else tmp_path / f"{step}.db"
        _invoke(runner, "export", "--db", str(source), "--kind", kind, "-o", str(out))
        exports.append(out.read_bytes())
        if following:
            _invoke(runner, "import", str(out), "--kind", kind, "--db",
                    str(tmp_path / f"{following}.db"))
    assert exports[0] == exports[1] == exports[2]


texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(texts, texts, st.sampled_from(["mt", "post-edit", "reference"])),
                     min_size=1, max_size=4))
def test_any_text_of_any_kind_survives_tmx_twice(tmp_path_factory: pytest.TempPathFactory,
                                                 rows: list[tuple[str, str, str]]) -> None:
    from corpus.interchange import import_file, write_tmx

    folder = tmp_path_factory.mktemp("kinds")
    pairs = [SentencePair(None, i, 0, ru, en, kind=kind, origin=kind,  # type: ignore[arg-type]
                          system=MT.signature if kind == "mt" else "")
             for i, (ru, en, kind) in enumerate(rows)]
    exports = []
    for step in range(3):
        with Archive(folder / f"{step}.db") as archive:
            if step == 0:
                archive.import_document("t", "t.tmx", pairs)
            else:
                import_file(archive, folder / f"{step - 1}.tmx")
            path = folder / f"{step}.tmx"
            with path.open("w", encoding="utf-8") as out:
                write_tmx([("t", p) for p in archive.pairs(kind="all")], out)
            exports.append(path.read_bytes())
            assert [(p.ru, p.en, p.kind) for p in archive.pairs(kind="all")] == rows
    assert exports[0] == exports[1] == exports[2]


# ---------------------------------------------------------------- provenance


def test_memory_hits_credit_the_translation_they_copy(
        db: Path | str, tmp_path: Path, runner) -> None:
    path = db
    with Archive(path) as archive:
        pipeline = Pipeline(EchoEngine(), archive=archive)
        first = pipeline.translate_document(Document("a.txt", "a", "Хомс взят. Бои идут."))
        archive.post_edit(first.doc_id, 0, "Homs has been taken.")
        [human] = [e for e in archive.history(first.doc_id) if e.kind == "post-edit"]
        [machine] = [e for e in archive.history(first.doc_id) if e.index == 1]
        second = pipeline.translate_document(Document("b.txt", "b", "Бои идут. Хомс взят."))
        assert [p.origin for p in second.pairs] == ["tm", "tm"]
        history = archive.history(second.doc_id)
    by_index = {e.index: e for e in history}
    assert (by_index[1].kind, by_index[1].system, by_index[1].source_id,
            by_index[1].source) == ("post-edit", "", human.id, "post-edit of 1:0")
    assert (by_index[0].kind, by_index[0].source_id, by_index[0].source) == (
        "mt", machine.id, "mt of 1:1")
    assert by_index[0].system.startswith("model:echo")  # the system that really made it

    shown = _invoke(runner, "show", str(second.doc_id), "--history", "--json", "--db", str(path))
    rows = {r["index"]: r for r in json.loads(shown.stdout)}
    assert (rows[1]["origin"], rows[1]["kind"], rows[1]["source_id"]) == (
        "tm", "post-edit", human.id)
    table = _invoke(runner, "show", str(second.doc_id), "--history", "--db", str(path))
    assert f"from memory: #{human.id} (post-edit of 1:0)" in table.stdout
    current = _invoke(runner, "show", str(second.doc_id), "--json", "--db", str(path))
    assert [(r["kind"], r["source"]) for r in json.loads(current.stdout)] == [
        ("mt", machine.id), ("post-edit", human.id)]


def test_copies_of_copies_lead_back_to_the_original(db: Path | str, tmp_path: Path) -> None:
    with Archive(db) as archive:
        pipeline = Pipeline(EchoEngine(), archive=archive)
        first = pipeline.translate_document(Document("a.txt", "a", "Хомс взят."))
        archive.post_edit(first.doc_id, 0, "Homs has been taken.")
        original = archive.history(first.doc_id)[-1].id
        for name in ("b", "c"):
            result = pipeline.translate_document(Document(name, name,
                                                          f"Хомс взят. Новость {name}."))
            assert archive.history(result.doc_id)[0].source_id == original
        again = pipeline.translate_document(Document("a.txt", "a", "Хомс взят."))
        assert len(archive.history(again.doc_id)) == 2  # the re-run copies nothing onto itself


def test_migration_credits_the_human_behind_old_memory_hits(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:2]:  # an archive as ruen made it before provenance
        migration(db)
    db.executescript("""
        PRAGMA user_version = 2;
        INSERT INTO documents VALUES (1, 'a', 'a', 'h1', 'Хомс взят.', '{}', 'now'),
                                     (2, 'b', 'b', 'h2', 'Хомс  взят.', '{}', 'now');
        INSERT INTO segments (id, doc_id, idx, paragraph, start, "end", ru, ru_norm)
            VALUES (1, 1, 0, 0, 0, 10, 'Хомс взят.', 'хомс взят.'),
                   (2, 2, 0, 0, 0, 11, 'Хомс  взят.', 'хомс взят.');
        INSERT INTO systems VALUES (1, 'opus', '', 'ct2', '{}');
        INSERT INTO translations (id, segment_id, system_id, kind, en, origin, created) VALUES
            (1, 1, 1, 'mt', 'Homs taken.', 'mt', 'now'),
            (2, 1, NULL, 'post-edit', 'Homs has been taken.', 'post-edit', 'now'),
            (3, 2, 1, 'mt', 'Homs has been taken.', 'tm', 'now');
    """)
    db.close()
    with Archive(path) as archive:
        [entry] = archive.history(2)
    assert (entry.kind, entry.system, entry.origin, entry.source_id) == (
        "post-edit", "", "tm", 2)


# ---------------------------------------------------------------- one document per article


def test_translating_an_imported_article_attaches_to_its_document(
        tmp_path: Path, db: Path, runner) -> None:
    memory = tmp_path / "memory.jsonl"
    memory.write_text("".join(json.dumps({"ru": ru, "en": en}, ensure_ascii=False) + "\n"
                              for ru, en in [
        ("Город  Хама освобожден.", "The city of Hama has been liberated."),
        ("Силы режима отступают к Хомсу.", "Regime forces are retreating towards Homs."),
        ("жители возвращаются в свои дома.", "Residents are returning to their homes.")]),
        encoding="utf-8")
    _invoke(runner, "import", str(memory))
    article = tmp_path / "hama-liberated.txt"  # another name, other spacing and case
    article.write_text(ARTICLE, encoding="utf-8")
    with Archive(db) as archive:
        result = Pipeline(EchoEngine(), archive=archive).translate_document(
            Document(str(article), "Hama", ARTICLE))
        assert result.doc_id == 1 and len(archive.documents()) == 1
        document = archive.document(1)
        assert document.text == ARTICLE
        assert [(p.kind, ARTICLE[p.start:p.end] == p.ru) for p in archive.pairs(1)] == [
            ("mt", True)] * 3
        assert len(list(archive.pairs(1, kind="reference"))) == 3
        again = Pipeline(EchoEngine(), archive=archive).translate_document(
            Document(str(article), "Hama", ARTICLE))
        assert again.doc_id == 1  # now by its text
    listed = json.loads(_invoke(runner, "list", "--json").stdout)
    assert [d["segments"] for d in listed] == [3]


def test_an_import_attaches_by_content_even_with_sentences_missing(
        tmp_path: Path, db: Path, runner) -> None:
    with Archive(db) as archive:
        Pipeline(EchoEngine(), archive=archive).translate_document(
            Document("a.txt", "Hama", ARTICLE))
    references = tmp_path / "desk.tsv"  # a header row, the middle sentence not translated
    references.write_text("RU\tEN\nГород Хама освобожден.\tHama has been liberated.\n"
                          "Жители возвращаются в свои дома.\tResidents are going home.\n",
                          encoding="utf-8")
    imported = json.loads(_invoke(runner, "import", str(references), "--json").stdout)
    assert [(r["doc"], r["new_document"], r["added"]) for r in imported] == [(1, False, 2)]
    with Archive(db) as archive:
        assert {p.index: p.en for p in archive.pairs(1, kind="reference")} == {
            0: "Hama has been liberated.", 2: "Residents are going home."}
    start_only = tmp_path / "start.tsv"  # another article that begins the same way
    start_only.write_text("Город Хама освобожден.\tHama is free.\n", encoding="utf-8")
    imported = json.loads(_invoke(runner, "import", str(start_only), "--json").stdout)
    assert imported[0]["new_document"] is True
