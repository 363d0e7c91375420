"""The bad-input matrix: what `ruen` does with every kind of input it should not choke on.

Each row of `REFUSED` is (input, exit code, message): the command runs through the real CLI on
the tiny model, prints one `error:` line per problem naming the file (and line) and what to do,
exits with that code, shows no traceback, and leaves the archive exactly as it was.
Each row of `ACCEPTED` is input that is translated or passed through, with what each sentence
becomes (`mt`: translated, `copy`: kept as is) and the flags it gets.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import zipfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest

from corpus.db import display_name, is_url
from corpus.store import Archive
from corpus.testing import archive_exists, rows, schema_version_of, set_schema_version
from corpus.types import Document, SentencePair, System
from translate.cli import app
from translate.testing import EchoEngine

RU = "Город Хама освобожден. Силы режима отступают.\n"
SEED = "Мы продолжаем двигаться на юг."  # stored before every refused command


def _zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("article.txt", RU * 50)
    return buffer.getvalue()


# A PDF: its header is ASCII and its streams are compressed bytes, with no NUL to give it away.
PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"4 0 obj\n<< /Length 60 /Filter /FlateDecode >>\nstream\nx\x9c\xed\xbd\x07`\x1cI\x96%&/m"
       b"\xca{\x7fJ\xf5J\xd7\xe0t\xa1\x08\x80`\x13$\xd8\x90@\x10\xec\xc1\x88\xcd\xe6\x92\xec\x1di"
       b"G#)\xab*\x81\xcaeVe]f\x16@\xcc\xed\x9d\xbc\xf7\xde{\xef\xbd\xf7\xde{\xef\xbd\xf7\xba;\x9d"
       b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
TMX = ("""<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="ru" datatype="plaintext" segtype="sentence" adminlang="en"
 creationtool="t" creationtoolversion="1" o-tmf="t"/><body>
<tu><tuv xml:lang="ru"><seg>Хама освобождена.</seg></tuv>
<tuv xml:lang="en"><seg>Hama is free.</seg></tuv></tu>
</body></tmx>
""").encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4


@dataclass(frozen=True)
class Refused:
    """Input that is refused: `args` may contain `{tmp}` (the test's folder); `files` are written
    there first; `message` is a regular expression, `{tmp}` and `{file}` (the first file)
    replaced by their escaped paths."""

    id: str
    files: dict[str, bytes]
    message: str
    args: tuple[str, ...] = ("translate", "{file}")
    stdin: str | None = None
    code: int = 2
    translated: tuple[str, ...] = ()  # sentences of good files in the same run, still printed


REFUSED = [
    # -------- files that are not Russian text
    Refused("empty file", {"a.txt": b""}, r"{file}: empty file"),
    Refused("whitespace only", {"a.txt": b" \n\t\n\r\n  \n"},
            r"{file}: (empty file|only whitespace)"),
    Refused("empty stdin", {}, r"<stdin>: empty file", args=("translate", "-"), stdin=""),
    Refused("PNG image named .txt", {"a.txt": PNG}, r"{file}: .*(binary|PNG image)"),
    Refused("zip archive named .txt", {"a.txt": _zip()}, r"{file}: .*(binary|ZIP archive)"),
    Refused("PDF named .txt (no NUL bytes)", {"a.txt": PDF}, r"{file}: .*(binary|PDF)"),
    # ISO-8859-5 and Mac Cyrillic decode as KOI8-R garbage unless recognised
    Refused("ISO-8859-5", {"a.txt": RU.encode("iso-8859-5")},
            r"{file}: .*(UTF-8, Windows-1251 or KOI8-R|encoding)"),
    Refused("UTF-8 and Windows-1251 mixed", {
        "a.txt": RU.encode() + "Мы продолжаем двигаться на юг.\n".encode("cp1251")},
        r"{file}(:2:|.*line 2).*(encoding|UTF-8)"),
    # -------- paths and options
    Refused("no such file", {}, r"{tmp}/missing.txt: no such file or folder",
            args=("translate", "{tmp}/missing.txt")),
    Refused("folder without files of the kinds read", {"notes/a.csv": b"a,b\n"},
            r"{tmp}/notes: no \*.txt",
            args=("translate", "{tmp}/notes")),
    Refused("unknown output format", {"a.txt": RU.encode()}, r"--format.*text, tsv, jsonl",
            args=("translate", "{file}", "--format", "xml")),
    # -------- a folder with some bad files: the good ones are translated, the bad reported last
    Refused("folder with an empty and a binary file", {
        "in/good.txt": RU.encode(), "in/empty.txt": b"", "in/image.txt": PNG},
        r"{tmp}/in/empty.txt: empty file.*\n.*{tmp}/in/image.txt: .*(binary|PNG image)",
        args=("translate", "{tmp}/in", "--format", "jsonl"),
        translated=("Город Хама освобожден.", "Силы режима отступают.")),
    # -------- glossaries (`--glossary FILE`): refused before anything is translated
    *[Refused(f"glossary: {what}", {name: content, "a.txt": RU.encode()}, message,
              args=("translate", "{tmp}/a.txt", "--glossary", "{file}")) for what, name, content,
      message in [
        ("missing header", "g.tsv", "Хама\tHama\n".encode(),
         r"{file}:1: the header must name the columns ru and en"),
        ("a row with too many columns", "g.tsv", "ru\ten\nХама\tHama\textra\n".encode(),
         r"{file}:2: 3 columns, the header has 2"),
        ("a CSV row with too few columns", "g.csv", "ru,en,note\nХама\n".encode(),
         r"{file}:2: 1 columns?, the header has 3"),
        ("an empty target", "g.tsv", "ru\ten\nХама\t\n".encode(),
         r"{file}:2: empty en column for 'Хама'"),
        ("an empty Russian term", "g.tsv", b"ru\ten\n\tHama\n",
         r"{file}:2: empty ru column"),
        ("the same term with two targets", "g.tsv",
         "ru\ten\nХама\tHama\nХомс\tHoms\nХама\tHamah\n".encode(),
         r"{file}:4: 'Хама' → 'Hamah' contradicts {file}:2 \('Хама' → 'Hama'\)"),
        ("not UTF-8", "g.tsv", "ru\ten\nХама\tHama\n".encode("cp1251"),
         r"{file}: not UTF-8; save the glossary as UTF-8"),
        ("empty file", "g.tsv", b"", r"{file}: empty glossary"),
        ("TBX cut off", "g.tbx", b'<martif type="TBX"><text><body><termEntry>',
         r"{file}:1: not valid TBX/XML"),
        ("XML that is not TBX", "g.tbx", b"<html><body>Hama</body></html>",
         r"{file}:1: no termEntry or conceptEntry elements; not a TBX glossary"),
        ("TBX without English", "g.tbx",
         '<martif type="TBX"><text><body><termEntry><langSet xml:lang="ru"><tig><term>Хама'
         '</term></tig></langSet></termEntry></body></text></martif>'.encode(),
         r"{file}:1: no English terms; the file has terms in ru, a glossary needs ru and en\."),
    ]],
    Refused("glossary: no such file", {"a.txt": RU.encode()},
            r"{tmp}/none.tsv: cannot read the glossary \(No such file",
            args=("translate", "{file}", "--glossary", "{tmp}/none.tsv")),
    # -------- imports (`ruen import FILE`): a malformed file stores nothing
    *[Refused(f"import: {what}", {name: content}, message, args=("import", "{file}"))
      for what, name, content, message in [
        ("TMX cut off", "m.tmx", TMX[:150], r"{file}:\d+: not well-formed XML"),
        ("TMX of random bytes", "m.tmx", bytes(range(256)), r"{file}:1: not well-formed XML"),
        ("XML that is not TMX", "m.tmx", b'<?xml version="1.0"?><html/>',
         r"{file}:1: the root element is <html>, not <tmx>"),
        ("TMX in German", "m.tmx", TMX.replace(b'"en"', b'"de"'),
         r"{file}:\d+: a <tuv> in language 'de'; ruen reads ru and en only"),
        ("TMX unit without English", "m.tmx", TMX.replace(
            b'<tuv xml:lang="en"><seg>Hama is free.</seg></tuv>', b""),
         r"{file}:\d+: the <tu> has no English"),
        ("TMX unit with empty English", "m.tmx", TMX.replace(b"Hama is free.", b""),
         r"{file}:\d+: the English text is empty"),
        ("TSV with three columns", "m.tsv", "Хама освобождена.\tHama is free.\tx\n".encode(),
         r"{file}:1: expected 2 tab-separated fields \(Russian, English\), found 3"),
        ("TSV with one column", "m.tsv", "Хама освобождена.\n".encode(),
         r"{file}:1: expected 2 tab-separated fields"),
        ("JSONL without en", "m.jsonl", '{"ru": "Хама освобождена."}\n'.encode(),
         r'{file}:1: "en" is missing or not a string'),
        ("JSONL with a number for ru", "m.jsonl", b'{"ru": 5, "en": "x"}\n',
         r'{file}:1: "ru" is missing or not a string'),
        ("JSONL cut off", "m.jsonl", b'{"ru": "x", "en": "y"\n', r"{file}:1: not JSON"),
        ("JSONL line that is not an object", "m.jsonl", b"[1, 2]\n",
         r'{file}:1: expected an object with "ru" and "en"'),
        ("empty file", "m.tsv", b"", r"{file}: no sentence pairs found"),
    ]],
    # -------- archives that cannot be used
    Refused("archive is a text file", {"a.txt": RU.encode(), "notes.db": RU.encode() * 20},
            r"{tmp}/notes.db: not a ruen archive",
            args=("translate", "{file}", "--db", "{tmp}/notes.db")),
    Refused("archive is another program's SQLite database",
            {"a.txt": RU.encode(), "other.db": b""}, r"{tmp}/other.db: an SQLite file, but not a "
            "ruen archive", args=("translate", "{file}", "--db", "{tmp}/other.db")),
]


@dataclass(frozen=True)
class Accepted:
    """Input that is translated or passed through: for each sentence, its origin (`mt` or
    `copy`) and the checks that flagged it."""

    id: str
    text: str
    expected: list[tuple[str, set[str]]]
    same_text: bool = False  # every sentence printed exactly as written (nothing to translate)


ACCEPTED = [
    Accepted("English", "The regime forces are retreating. We keep moving south.\n",
             [("copy", {"not-russian"}), ("copy", {"not-russian"})], same_text=True),
    Accepted("Arabic", "تقدمت قوات المعارضة نحو مدينة حماة.\n", [("copy", {"not-russian"})],
             same_text=True),
    Accepted("Russian and English sentences mixed",
             "Город Хама освобожден. The regime forces are retreating.\n",
             [("mt", set()), ("copy", {"not-russian"})]),
    Accepted("mostly English with a Russian word",
             "The Syrian city of Hama, or Хама, was captured on Thursday by rebel forces.\n",
             [("mt", {"not-russian"})]),
    Accepted("numbers only", "2024 12 345 678,90\n", [("copy", set())], same_text=True),
    Accepted("URLs only", "https://example.com/news/2024/hama?id=12\n\nwww.example.org\n",
             [("copy", set()), ("copy", set())], same_text=True),
    Accepted("HTML markup", "<p>Город <b>Хама</b> освобожден.</p>\n", [("mt", set())]),
    Accepted("emoji", "Город Хама освобожден 🎉🇸🇾. Силы режима отступают 🏃.\n",
             [("mt", set()), ("mt", set())]),
    Accepted("control characters",
             "Город\x07 Хама\x1b освобожден.\x0c Силы режима\x7f отступают.\n",
             [("mt", set()), ("mt", set())]),
    Accepted("only emoji and punctuation", "🎉🎉 — *** !!!\n", [("copy", set())], same_text=True),
]


def _seed(db: Path) -> None:
    with Archive(db) as archive:
        archive.save_document(
            Document(path="seed.txt", title="seed", text=SEED),
            [SentencePair(doc=None, index=0, paragraph=0, ru=SEED, en="We keep moving south.")],
            System("seed"))


def display(db: Path | str) -> str:
    """How messages name the archive."""
    return display_name(str(db)) if is_url(db) else str(db)


def _archive_rows(db: Path | str) -> list[tuple[str, str]]:
    return rows(db, "SELECT s.ru, t.en FROM segments s JOIN translations t"
                    " ON t.segment_id = s.id ORDER BY t.id")


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_refused(case: Refused, tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    for name, content in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    if "other.db" in case.files:
        with closing(sqlite3.connect(tmp_path / "other.db")) as con:
            con.execute("CREATE TABLE people (name TEXT)")
            con.commit()
    inputs = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    first = tmp_path / next(iter(case.files), "")
    if "--db" not in case.args:
        _seed(db)
    before = _archive_rows(db) if archive_exists(db) else None
    args = [a.format(tmp=tmp_path, file=first) for a in case.args]
    result = runner.invoke(app, [*args, "--model", str(tiny_model)] if args[0] == "translate"
                           else args, input=case.stdin)

    assert result.exit_code == case.code, result.output
    message = case.message.replace("{tmp}", re.escape(str(tmp_path))).replace(
        "{file}", re.escape(str(first)))
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("error:") or "Usage:" in result.stderr for line in lines), lines
    assert {path: path.read_bytes() for path in inputs} == inputs  # inputs never touched
    printed = [json.loads(line)["ru"] for line in result.stdout.splitlines() if line.strip()]
    assert printed == list(case.translated)
    if before is not None:  # nothing stored is lost; only the good files were added
        after = _archive_rows(db)
        assert after[:len(before)] == before
        assert [ru for ru, _ in after[len(before):]] == list(case.translated)


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.id)
def test_accepted(case: Accepted, tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    source = tmp_path / "in.txt"
    source.write_text(case.text, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    # other checks (eval.qa) flag the tiny model's random output too: only ours matters here
    assert [(r["origin"], {f["check"] for f in r["flags"]} & {"not-russian"}) for r in rows
            ] == case.expected
    assert all(r["en"].strip() for r in rows)
    for r in rows:
        if r["origin"] == "copy":
            assert r["en"] == r["ru"]
    if case.same_text:
        text = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model)])
        assert text.stdout.split() == case.text.split()
    # stored as printed, flags included
    exported = runner.invoke(app, ["export", "--format", "jsonl"])
    assert [(r["ru"], r["en"], r["flags"]) for r in map(json.loads, exported.stdout.splitlines())
            ] == [(r["ru"], r["en"], r["flags"]) for r in rows]


def test_an_archive_from_a_newer_ruen_is_refused_by_every_command(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    _seed(db)
    newest = schema_version_of(db)
    set_schema_version(db, newest + 5)
    source = tmp_path / "a.txt"
    source.write_text(RU, encoding="utf-8")
    for args in (["translate", str(source), "--model", str(tiny_model)], ["list"],
                 ["export", "--format", "tsv"], ["show", "1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert re.fullmatch(rf"error: {re.escape(display(db))}: archive schema version "
                            rf"{newest + 5} is newer than this ruen understands "
                            rf"\({newest}\); upgrade ruen.\n", result.stderr), result.stderr


def test_a_20000_character_sentence_without_punctuation_is_translated_whole(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    """Longer than the model's 512 tokens: cut at word boundaries and rejoined, never
    truncated; stored as one sentence."""
    words = ["город", "хама", "силы", "режима", "отступают", "под", "давлением", "мы"]
    text = ""
    while len(text) < 20_000:
        text += words[len(text) % len(words)] + " "
    text = text[:20_000].strip()
    source = tmp_path / "long.txt"
    source.write_text(text + "\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--beam", "1", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["ru"] == text and (row["start"], row["end"]) == (0, len(text))
    assert row["en"].strip()


def test_a_sentence_too_long_for_the_model_reaches_it_whole_in_pieces(tiny_model: Path) -> None:
    """Every word of an over-long sentence goes to the engine, in order, in pieces the model
    accepts: nothing is truncated."""
    from translate.engine import DecodeSettings, load_engine
    from translate.model import resolve_model
    from translate.pipeline import Pipeline

    engine = load_engine(resolve_model(str(tiny_model), None), "transformers")
    seen: list[str] = []
    translate_batch: Callable = engine.translate_batch

    def recording(sentences, settings):  # type: ignore[no-untyped-def]
        seen.extend(sentences)
        return translate_batch(sentences, settings)

    engine.translate_batch = recording  # type: ignore[method-assign]
    words = [f"город{n % 10} хама{n % 7}" for n in range(1500)]
    sentence = " ".join(words)
    assert engine.count_tokens([sentence])[0] > engine.max_input_tokens
    [(english, _)] = Pipeline(engine, DecodeSettings(beam=1)).translate([sentence])
    assert len(seen) > 1
    assert all(n <= engine.max_input_tokens for n in engine.count_tokens(seen))
    assert " ".join(seen).split() == sentence.split()
    assert english.strip()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_in_a_folder_is_reported_and_the_others_translated(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(RU, encoding="utf-8")
    locked = folder / "b.txt"
    locked.write_text(RU.replace("Хама", "Хомс"), encoding="utf-8")
    locked.chmod(0)
    try:
        result = runner.invoke(app, ["translate", str(folder), "--model", str(tiny_model),
                                     "--format", "jsonl"])
    finally:
        locked.chmod(0o644)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {locked}: cannot read (Permission denied).\n"
    assert [json.loads(line)["ru"] for line in result.stdout.splitlines()] == [
        "Город Хама освобожден.", "Силы режима отступают."]


# A 50 MB file: `python -m bench.big_input` measures memory and time (an instant engine, so only
# ruen's own work counts); too slow for the test suite. What makes it work is tested here on a
# small scale: long documents go through in parts, each stored whole, a crash loses one part.

PARAGRAPHS = [f"Абзац {n}. Город Хама освобожден в {n} раз. Силы режима отступают к посёлку {n}."
              for n in range(40)]
LONG = "\n\n".join(PARAGRAPHS) + "\n"


def test_a_long_document_is_cut_into_parts_of_whole_paragraphs() -> None:
    from corpus.parts import split_parts
    from translate.segment import segment

    document = Document(path="long.txt", title="Абзац 0", text=LONG)
    parts = list(split_parts(document, part_chars=500))
    assert len(parts) > 5
    assert all(len(p.text) <= 500 for p in parts)
    assert [p.title for p in parts[:2]] == [f"Абзац 0 (part {k}/{len(parts)})" for k in (1, 2)]
    # nothing lost or cut at the seams: the parts hold every paragraph, whole, in order
    assert "\n\n".join(p.text for p in parts) == LONG
    assert [s.ru for p in parts for s in segment(p.text)] == [s.ru for s in segment(LONG)]
    for p in parts:
        assert LONG[p.metadata["offset"]:p.metadata["offset"] + len(p.text)] == p.text
    assert list(split_parts(document, part_chars=len(LONG))) == [document]


def test_a_long_document_is_stored_part_by_part_and_an_interrupt_loses_only_one(
        tmp_path: Path, echo_engine: EchoEngine) -> None:
    from translate.job import JobReport, run_job
    from translate.pipeline import Interrupted, Pipeline

    source = tmp_path / "long.txt"
    source.write_text(LONG, encoding="utf-8")
    engine = echo_engine
    with Archive(tmp_path / "a.db") as archive:
        # one batch per part here: stop once the third part has been translated
        pipeline = Pipeline(engine, archive=archive,  # type: ignore[arg-type]
                            should_stop=lambda: engine.batches >= 3)
        report = JobReport()
        with pytest.raises(Interrupted):
            run_job(pipeline, [str(source)], on_result=lambda n, r: None, report=report,
                    part_chars=500)
        assert report.documents == len(archive.documents()) == 3
        assert report.current == f"{source} (part 4/7)"  # named in the Ctrl-C message
        pipeline.should_stop = lambda: False
        again = run_job(pipeline, [str(source)], on_result=lambda n, r: None, part_chars=500)
        stored = [p.ru for p in archive.pairs()]
        assert again.reused == sum(d.segments for d in archive.documents()[:3])
    from translate.segment import segment

    assert stored == [s.ru for s in segment(LONG)]  # every sentence once, in order


def test_text_output_of_a_document_in_parts_keeps_its_paragraphs(
        tiny_model: Path, db: Path, tmp_path: Path, runner, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    import translate.job

    monkeypatch.setattr(translate.job, "PART_CHARS", 500)
    source = tmp_path / "long.txt"
    source.write_text(LONG, encoding="utf-8")
    other = tmp_path / "short.txt"
    other.write_text(RU, encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), str(other), "--model",
                                 str(tiny_model), "--beam", "1"])
    assert result.exit_code == 0, result.output
    paragraphs = result.stdout.rstrip("\n").split("\n\n")
    assert len(paragraphs) == len(PARAGRAPHS) + 1  # and one for the short file
    assert all(p.strip() and "\n" not in p for p in paragraphs)
    listed = runner.invoke(app, ["list", "--json"])
    assert len(json.loads(listed.stdout)) == 8  # 7 parts and the short file


# ------------------------------------------------------------------ search queries
# (query, hits expected, or the error expected): malformed FTS syntax and strings built to
# escape into SQL get our one-line error or a correct (empty) result, never an SQL error.
SEARCHES: list[tuple[str, int | str]] = [
    ("юг", 1),  # the control: a plain word finds the stored sentence
    ('"Хама', "a quote is not closed"),
    ("AND AND", "`AND` needs a word or phrase on both sides"),
    ("юг OR OR юг", "`OR` needs a word or phrase on both sides"),
    ("*", "`*` marks a prefix and must follow the start of a word"),
    ("NEAR(", "the query ends where a word or phrase is needed"),
    ("(юг", "a `(` is not closed"),
    (")", "a `)` has no matching `(`"),
    ("", "nothing to search for"),
    ('""', "nothing to search for"),
    ("'); DROP TABLE segments; --", "a `)` has no matching `(`"),
    ('" OR 1=1 --', "a quote is not closed"),
    ('x" UNION SELECT * FROM documents --', "a quote is not closed"),
    ("юг'; DROP TABLE segments; --", 0),  # every word must be there: no sentence has them all
    ("ru_norm:юг", 0),  # no FTS column filters: `ru_norm` is just a word
    ("{ru_norm ru_lemmas}: юг", 0),
    ("юг^", 1),  # FTS5's start-of-column mark is punctuation here
    ("NEAR(юг двигаться, 2)", 0),
]


@pytest.mark.parametrize(("query", "expected"), SEARCHES, ids=[q or "empty" for q, _ in SEARCHES])
def test_search_query(query: str, expected: int | str, db: Path, runner) -> None:
    _seed(db)
    before = _archive_rows(db)
    result = runner.invoke(app, ["search", "--json", "--", query])
    assert "Traceback" not in result.output
    if isinstance(expected, int):
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == expected
    else:
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: query ")
        assert expected in result.stderr and len(result.stderr.splitlines()) == 1
    assert _archive_rows(db) == before


def test_importing_duplicated_units_twice_adds_nothing_the_second_time(
        db: Path, tmp_path: Path, runner) -> None:
    units = TMX.replace(b"<body>", b"<body>" + TMX.split(b"<body>")[1].split(b"</body>")[0])
    source = tmp_path / "m.tmx"
    source.write_bytes(units)
    first = runner.invoke(app, ["import", str(source), "--json"])
    assert first.exit_code == 0, first.output
    assert [r["added"] for r in json.loads(first.stdout)] == [2]  # the same unit twice
    second = runner.invoke(app, ["import", str(source), "--json"])
    assert second.exit_code == 0, second.output
    assert [(r["new_document"], r["added"]) for r in json.loads(second.stdout)] == [(False, 0)]
    assert len(_archive_rows(db)) == 2


def test_a_bad_file_in_an_import_stores_nothing_of_it(db: Path, tmp_path: Path, runner) -> None:
    good = tmp_path / "good.tmx"
    good.write_bytes(TMX)
    bad = tmp_path / "bad.tmx"
    bad.write_bytes(TMX.replace(b"</body>", b"<tu><tuv xml:lang='ru'><seg>x</seg></tuv></tu>"
                                            b"</body>"))
    result = runner.invoke(app, ["import", str(bad), "--json"])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {bad}:")
    assert not archive_exists(db) or _archive_rows(db) == []  # not even its good first unit
    result = runner.invoke(app, ["import", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert _archive_rows(db) == [("Хама освобождена.", "Hama is free.")]


def test_a_20000_character_word_is_translated_in_pieces(
        tiny_model: Path, db: Path, tmp_path: Path, runner) -> None:
    """No space to cut at (a pasted blob): cut anywhere, still never truncated."""
    text = ("хамасилырежима" * 1500)[:20_000]
    source = tmp_path / "blob.txt"
    source.write_text(text + "\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model),
                                 "--beam", "1", "--no-glossary", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["ru"] == text and row["en"].strip()
