"""`ruen qa` over the archive and over files, and QA flags stored at translation time."""

from __future__ import annotations

import json
from pathlib import Path

from corpus.store import Archive
from corpus.types import Document, SentencePair, System, TermStatus
from eval.qa import run_checks
from translate.cli import app

PAIRS = [
    ("Силы в 10 километрах от Хамы.", "The forces are 10 kilometers from Hama.", []),
    ("Силы в 10 километрах от Хамы.", "The forces are 12 miles from Хама.",
     ["cyrillic", "numbers", "units"]),
    ("Город освобожден.", "The city the city the city the city.", ["repetition"]),
    ("Силы (СДС) наступают.", "The forces (SDF advance.", ["brackets"]),
]


def _store(db: Path, terms: tuple[TermStatus, ...] = ()) -> int:
    pairs = [SentencePair(None, i, 0, ru, en, terms=terms if i == 0 else (), start=0,
                          end=len(ru)) for i, (ru, en, _) in enumerate(PAIRS)]
    with Archive(db) as archive:
        return archive.save_document(Document("a.txt", "a", "text"), pairs, System("m"))


def test_qa_lists_flagged_segments_errors_first(runner, db: Path) -> None:
    _store(db, (TermStatus("Хама", "Hama", "missing"),))
    # --no-glossary: the term statuses stored at translation time are reported as they are
    result = runner.invoke(app, ["qa", "--db", str(db), "--no-glossary", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["checked"] == 4 and data["flagged"] == 4
    by_index = {f["index"]: {x["check"] for x in f["flags"]} for f in data["findings"]}
    assert by_index == {0: {"glossary-missing"}, 1: {"cyrillic", "numbers", "units"},
                        2: {"repetition"}, 3: {"brackets"}}
    severities = [f["severity"] for f in data["findings"]]
    assert severities == sorted(severities, key=["error", "warning"].index)


def test_severity_filter_and_text_output(runner, db: Path) -> None:
    _store(db)
    result = runner.invoke(app, ["qa", "--db", str(db), "--severity", "error"])
    assert result.exit_code == 0, result.output
    assert "4 translation(s) checked, 2 flagged" in result.stderr  # a summary: stderr
    assert "ERROR" in result.stdout and "WARNING" not in result.stdout
    assert "doc 1 #1 error cyrillic" in result.stdout
    assert "brackets" not in result.stdout


def test_save_replaces_stored_flags(runner, db: Path) -> None:
    _store(db)
    result = runner.invoke(app, ["qa", "--db", str(db), "--save", "--check", "repetition"])
    assert result.exit_code == 0, result.output
    with Archive(db) as archive:
        stored = {p.index: [f.check for f in p.flags] for p in archive.pairs()}
    assert stored == {0: [], 1: [], 2: ["repetition"], 3: []}


def test_qa_of_a_tsv_file(runner, tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{ru}\t{en}\n" for ru, en, _ in PAIRS), encoding="utf-8")
    result = runner.invoke(app, ["qa", str(path), "--json", "--check", "numbers"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["index"], [x["check"] for x in f["flags"]]) for f in findings] == [
        (1, ["numbers"])]


def test_bad_options_exit_2(runner, db: Path) -> None:
    _store(db)
    for args in (["--severity", "fatal"], ["--check", "spelling"]):
        result = runner.invoke(app, ["qa", "--db", str(db), *args])
        assert result.exit_code == 2, result.output


def test_translate_stores_the_flags_of_every_check(tiny_model: Path, db: Path, tmp_path: Path,
                                                   runner) -> None:
    source = tmp_path / "article.txt"
    # random-weight model: its English is noise, so some checks fire (length, numbers...)
    source.write_text("Силы режима отступают на 10 километров в четверг, 5 декабря.\n"
                      "Город Хама полностью освобожден после ожесточенных боев.\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    with Archive(db) as archive:
        pairs = list(archive.pairs())
    stored = [sorted(f.check for f in p.flags if f.check in {
        "cyrillic", "numbers", "dates", "units", "length-ratio", "repetition", "brackets",
        "empty"}) for p in pairs]
    assert stored == [sorted(f.check for f in run_checks(p.ru, p.en)) for p in pairs]
    assert any(stored), "the noise of a random model should trip at least one check"


def test_qa_of_english_lines_needs_the_source(runner, tmp_path: Path) -> None:
    english = tmp_path / "hyp.txt"
    english.write_text("".join(f"{en}\n" for _, en, _ in PAIRS), encoding="utf-8")
    alone = runner.invoke(app, ["qa", str(english)])
    assert alone.exit_code == 2 and "pass --src FILE" in alone.output
    source = tmp_path / "src.txt"
    source.write_text("".join(f"{ru}\n" for ru, _, _ in PAIRS[:2]), encoding="utf-8")
    short = runner.invoke(app, ["qa", str(english), "--src", str(source)])
    assert short.exit_code == 2 and "2 Russian sentences for 4 English ones" in short.output
    source.write_text("".join(f"{ru}\n" for ru, _, _ in PAIRS), encoding="utf-8")
    result = runner.invoke(app, ["qa", str(english), "--src", str(source), "--json"])
    assert result.exit_code == 0, result.output
    assert [f["index"] for f in json.loads(result.stdout)["findings"]] == [1, 2, 3]


def test_qa_checks_terms_with_the_default_glossary_as_translate_does(runner, db: Path) -> None:
    pairs = [SentencePair(None, 0, 0, "ХТШ взяла аэропорт.", "KhTSh took the airport.",
                          start=0, end=19),
             SentencePair(None, 1, 0, "ХТШ наступает.", "HTS advances.", start=20, end=34)]
    with Archive(db) as archive:
        archive.save_document(Document("a.txt", "a", "text"), pairs, System("m"))
    plain = runner.invoke(app, ["qa", "--db", str(db), "--no-glossary", "--json"])
    assert json.loads(plain.stdout)["flagged"] == 0  # no term statuses were stored
    result = runner.invoke(app, ["qa", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["index"] == 0
    assert [f["check"] for f in finding["flags"]] == ["glossary-missing"]
    assert "HTS" in finding["flags"][0]["message"]
