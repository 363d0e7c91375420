"""Search: every form of a Russian word, English stems, the query language, filters, highlights,
and an index that stays in step with the archive."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from corpus.errors import QueryError
from corpus.lemma import lemma_key, lemma_text
from corpus.search import kwic_window, search
from corpus.store import MIGRATIONS, Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

MT = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
OTHER = System("other-model", "", "ctranslate2", {"beam": 1})

ARTICLE = [  # (Russian, English): one document
    ("Бои идут в Хомсе.", "Fighting is going on in Homs."),
    ("Командованием принято решение о наступлении на Хомс.",
     "The command decided to advance on Homs."),
    ("Силы режима отступают из Хамы.", "Regime forces are retreating from Hama."),
    ("Ещё одна колонна вышла из Хомса утром.", "Another column left Homs in the morning."),
    ("Повстанцы продолжают наступать на юг.", "The rebels keep advancing south."),
    ("Четвёртая дивизия покинула Хаму.", "The Fourth Division left Hama."),
]
SECOND = [
    ("Под Хомсом сбит вертолёт.", "A helicopter was shot down near Homs."),
    ("Представитель командования подтвердил это.", "A command spokesman confirmed it."),
]


def _store(archive: Archive, rows: list[tuple[str, str]], title: str,
           system: System = MT) -> int:
    text = " ".join(ru for ru, _ in rows)
    pairs, start = [], 0
    for i, (ru, en) in enumerate(rows):
        pairs.append(SentencePair(doc=None, index=i, paragraph=0, ru=ru, en=en, start=start,
                                  end=start + len(ru)))
        start += len(ru) + 1
    return archive.save_document(Document(f"{title}.txt", title, text), pairs, system)


@pytest.fixture
def archive(db: Path | str) -> Archive:
    """The articles in an archive on each backend (SQLite, PostgreSQL)."""
    archive = Archive(db)
    _store(archive, ARTICLE, "Сирия")
    _store(archive, SECOND, "Вертолёт", OTHER)
    yield archive
    archive.close()


def _found(archive: Archive, query: str, **options) -> list[str]:
    return [h.ru for h in search(archive, query, **options)]


# ---------------------------------------------------------------- lemmas


@pytest.mark.parametrize("forms", [
    "Хомс Хомса Хомсе Хомсом Хомсу",       # a place pymorphy3 knows
    "Хама Хамы Хаме Хамой Хаму",           # read as `хам`, `хама` and `хаму` by pymorphy3
    "Хасака Хасаки Хасаке Хасакой",        # unknown to pymorphy3
    "командование Командованием командования",
    "дивизия дивизии Дивизией",
    "ёлка Елка ЁЛКОЙ",                     # ё = е, any case
])
def test_every_form_of_a_word_has_one_key(forms: str) -> None:
    assert len({lemma_key(w) for w in forms.split()}) == 1, [lemma_key(w) for w in forms.split()]


def test_lemma_text_has_one_key_per_token() -> None:
    sentence = "Дейр-эз-Зор, 12 мая: ISIS отступил."
    assert len(lemma_text(sentence).split()) == 7


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize("query", ["Хомс", "хомсом", "ХОМСЕ"])
def test_any_form_of_a_russian_name_finds_every_form(archive: Archive, query: str) -> None:
    assert sorted(_found(archive, query, lang="ru")) == sorted([
        ARTICLE[0][0], ARTICLE[1][0], ARTICLE[3][0], SECOND[0][0]])


def test_russian_lemma_search_finds_inflected_nouns_and_e_for_yo(archive: Archive) -> None:
    assert set(_found(archive, "командование", lang="ru")) == {ARTICLE[1][0], SECOND[1][0]}
    assert _found(archive, "четвертая", lang="ru") == [ARTICLE[5][0]]
    assert _found(archive, "еще", lang="ru") == [ARTICLE[3][0]]


def test_english_search_stems(archive: Archive) -> None:
    hits = search(archive, "advance", lang="en")
    assert {h.en for h in hits} == {ARTICLE[1][1], ARTICLE[4][1]}  # advance, advancing


IRREGULAR = [  # a translated report: irregular verbs and nouns the way news English has them
    ("Мы думали, что армия нас защитит.", "We thought the army would protect us."),
    ("Повстанцы вошли в город в четверг.", "The rebels came into the city on Thursday."),
    ("Дети провели ночь в подвале.", "The children spent the night in a cellar."),
    ("Командир считает, что наступление дойдёт до Дамаска.",
     "The commander thinks the offensive will reach Damascus."),
    ("Колонна пришла с севера.", "A column has come from the north."),
    ("Ребёнок остался один.", "A child was left alone."),
    ("На левом берегу тихо.", "It is quiet on the left bank."),
]


@pytest.fixture
def irregular(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "irregular.db")
    _store(archive, IRREGULAR, "Доклад")
    yield archive
    archive.close()


@pytest.mark.parametrize(("query", "expected"), [
    ("think", {0, 3}),             # thought, thinks
    ("thought", {0, 3}),           # the same key either way
    ("come", {1, 4}),              # came, come
    ("child", {2, 5}),             # children, child
    ("spend", {2}),                # spent
    ("leave", {5, 6}),             # left: the verb's reading joins the adjective's too
    ('"child spend"', {2}),        # a phrase of lemmas
])
def test_english_irregular_forms_meet_their_lemma(irregular: Archive, query: str,
                                                  expected: set[int]) -> None:
    assert {h.index for h in search(irregular, query, lang="en")} == expected


def test_english_lemma_hits_highlight_the_words_as_written(irregular: Archive) -> None:
    [hit] = search(irregular, "spend", lang="en")
    assert [hit.en[s:e] for s, e in hit.en_spans] == ["spent"]
    [hit] = search(irregular, '"child spend"', lang="en")
    assert [hit.en[s:e] for s, e in hit.en_spans] == ["children spent"]


def test_exact_english_is_still_the_word_form(irregular: Archive) -> None:
    assert {h.index for h in search(irregular, "think", lang="en", exact=True)} == set()
    assert {h.index for h in search(irregular, "thought", lang="en", exact=True)} == {0}


def test_english_prefix_matches_the_start_of_lemma_stems(irregular: Archive) -> None:
    assert {h.index for h in search(irregular, "offens*", lang="en")} == {3}
    assert {h.index for h in search(irregular, "chil*", lang="en")} == {2, 5}


def test_exact_turns_lemmas_and_stems_off(archive: Archive) -> None:
    assert _found(archive, "Хомс", lang="ru", exact=True) == [ARTICLE[1][0]]
    assert [h.en for h in search(archive, "advance", lang="en", exact=True)] == [ARTICLE[1][1]]


def test_exact_still_treats_yo_as_e(archive: Archive) -> None:
    assert _found(archive, "еще", lang="ru", exact=True) == [ARTICLE[3][0]]


def test_phrases_match_words_in_order_in_any_form(archive: Archive) -> None:
    assert _found(archive, '"сила режима"', lang="ru") == [ARTICLE[2][0]]
    assert _found(archive, '"режима силы"', lang="ru") == []
    assert [h.en for h in search(archive, '"regime force"', lang="en")] == [ARTICLE[2][1]]


@pytest.mark.parametrize(("query", "expected"), [
    ("Хомс AND колонна", {3}),
    ("Хомс колонной", {3}),                   # side by side means AND
    ("Хама OR наступление", {1, 2, 5}),
    ("Хомс NOT решение", {0, 3}),
    ("(Хама OR решение) NOT дивизия", {1, 2}),
])
def test_boolean_operators(archive: Archive, query: str, expected: set[int]) -> None:
    hits = search(archive, query, lang="ru", docs=[1])
    assert {h.index for h in hits} == expected


def test_prefix_matches_word_forms(archive: Archive) -> None:
    assert set(_found(archive, "наступ*", lang="ru")) == {ARTICLE[1][0], ARTICLE[4][0]}
    assert {h.en for h in search(archive, "retreat*", lang="en")} == {ARTICLE[2][1]}


def test_both_languages_by_default(archive: Archive) -> None:
    # "Hama" is only on the English side of these; Хаму/Хамы on the Russian side
    assert {h.index for h in search(archive, "Hama", docs=[1])} == {2, 5}
    assert {h.index for h in search(archive, "Хама", docs=[1])} == {2, 5}


# ---------------------------------------------------------------- bad queries


@pytest.mark.parametrize("query", ['"Хама', "AND AND", "*", "NEAR(", "Хомс AND", "NOT Хомс",
                                   "(Хомс", "Хомс )", "", "   ", "— ;"])
def test_malformed_queries_are_query_errors(archive: Archive, query: str) -> None:
    with pytest.raises(QueryError):
        search(archive, query)


def test_sql_in_a_query_is_only_text(archive: Archive) -> None:
    with pytest.raises(QueryError, match="no matching"):
        search(archive, "'); DROP TABLE segments; --")
    assert search(archive, "x' OR 1=1 --") == []  # the words x, 1 and 1: nowhere
    assert search(archive, 'ru_norm : "хомс"') == []  # `:` is punctuation, not a column
    assert archive.db.execute("SELECT count(*) FROM segments").fetchone()[0] == 8


def test_fts5_syntax_in_words_is_not_interpreted(archive: Archive) -> None:
    # NEAR, column filters and carets are FTS5 syntax; here they are just words (not found)
    assert search(archive, "NEAR ^Хомс {ru_norm}") == []


# ---------------------------------------------------------------- filters and paging


def test_doc_system_and_since_filters(archive: Archive) -> None:
    assert {h.doc for h in search(archive, "Хомс")} == {1, 2}
    assert {h.doc for h in search(archive, "Хомс", docs=[2])} == {2}
    assert {h.doc for h in search(archive, "Хомс", system="other")} == {2}
    assert search(archive, "Хомс", since="2999-01-01") == []
    assert len(search(archive, "Хомс", since="2000-01-01")) == 4
    with pytest.raises(QueryError, match="no system matches"):
        search(archive, "Хомс", system="nobody")
    with pytest.raises(QueryError, match="--since"):
        search(archive, "Хомс", since="last week")


def test_limit_and_offset_page_through_the_ranking(archive: Archive) -> None:
    everything = [(h.doc, h.index) for h in search(archive, "Хомс", lang="ru")]
    pages = [(h.doc, h.index) for offset in range(0, 4, 2)
             for h in search(archive, "Хомс", lang="ru", limit=2, offset=offset)]
    assert pages == everything and len(everything) == 4
    scores = [h.score for h in search(archive, "Хомс", lang="ru")]
    assert scores == sorted(scores, reverse=True)


# ---------------------------------------------------------------- what a hit shows


def test_highlights_are_the_matched_words_in_the_original_text(archive: Archive) -> None:
    hit = search(archive, "Хомс", lang="ru", docs=[1], limit=10)
    spans = {h.index: [h.ru[s:e] for s, e in h.ru_spans] for h in hit}
    assert spans == {0: ["Хомсе"], 1: ["Хомс"], 3: ["Хомса"]}
    phrase = search(archive, '"сила режима"', lang="ru")[0]
    assert [phrase.ru[s:e] for s, e in phrase.ru_spans] == ["Силы режима"]
    english = search(archive, "advance", lang="en", exact=True)[0]
    assert [english.en[s:e] for s, e in english.en_spans] == ["advance"]


def test_a_post_edit_is_the_translation_shown_and_searched(archive: Archive) -> None:
    archive.post_edit(1, 2, "Government troops are pulling back from Hama.")
    hit = search(archive, "Хама", lang="ru", docs=[1], limit=10)
    shown = {h.index: (h.en, h.kind) for h in hit}
    assert shown[2] == ("Government troops are pulling back from Hama.", "post-edit")
    assert [h.index for h in search(archive, "pull", lang="en")] == [2]


def test_kwic_window_cuts_around_the_first_match() -> None:
    text = "а" * 100 + " Хомс " + "б" * 100
    excerpt, spans = kwic_window(text, [(101, 105)], width=10)
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert [excerpt[s:e] for s, e in spans] == ["Хомс"]


# ---------------------------------------------------------------- the index stays in step


def test_index_follows_deletes_and_new_documents(archive: Archive) -> None:
    with archive.transaction():
        archive.db.execute("DELETE FROM documents WHERE id = 2")
    assert {h.doc for h in search(archive, "Хомс")} == {1}
    _store(archive, SECOND, "again")
    assert {h.title for h in search(archive, "вертолет")} == {"again"}
    if archive.backend == "sqlite":  # FTS5's own check of its index against the tables
        for table in ("segments_fts", "translations_fts", "translations_fts_exact"):
            archive.db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


def _archive_from_before_search(path: Path) -> None:
    db = sqlite3.connect(path)
    MIGRATIONS[0](db)
    db.execute("INSERT INTO documents VALUES (1, 'a.txt', 'a', 'x', 'Бои в Хомсе.', '{}', '')")
    db.execute("INSERT INTO segments (doc_id, idx, paragraph, start, \"end\", ru, ru_norm)"
               " VALUES (1, 0, 0, 0, 12, 'Бои в Хомсе.', 'бои в хомсе.')")
    db.execute("INSERT INTO translations (segment_id, kind, en, created)"
               " VALUES (1, 'mt', 'Fighting in Homs.', '')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_an_archive_from_before_english_lemmas_is_reindexed_when_opened(tmp_path: Path
                                                                        ) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    MIGRATIONS[0](db)
    MIGRATIONS[1](db)  # search by Porter stem only, as archives were before
    db.execute("INSERT INTO documents VALUES (1, 'a.txt', 'a', 'x', 'Дети ушли.', '{}', '')")
    db.execute("INSERT INTO segments (doc_id, idx, paragraph, start, \"end\", ru, ru_norm,"
               " ru_lemmas) VALUES (1, 0, 0, 0, 10, 'Дети ушли.', 'дети ушли.', 'дет уйти')")
    db.execute("INSERT INTO translations (segment_id, kind, en, created)"
               " VALUES (1, 'mt', 'The children went away.', '')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Archive(path) as archive:
        assert [h.en for h in search(archive, "child go", lang="en")] == [
            "The children went away."]
        archive.db.execute("INSERT INTO translations_fts (translations_fts)"
                           " VALUES ('integrity-check')")


def test_an_archive_from_before_search_is_indexed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _archive_from_before_search(path)
    with Archive(path) as archive:
        assert [h.en for h in search(archive, "Хомс", lang="ru")] == ["Fighting in Homs."]
        assert [h.ru for h in search(archive, "homs", lang="en")] == ["Бои в Хомсе."]


# ---------------------------------------------------------------- the command


def test_search_command_upgrades_an_older_archive_first(tmp_path: Path, runner) -> None:
    path = tmp_path / "old.db"
    _archive_from_before_search(path)
    result = runner.invoke(app, ["search", "Хомс", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert [r["en"] for r in json.loads(result.stdout)] == ["Fighting in Homs."]


def test_search_command_json_and_kwic(archive: Archive, runner, db: Path | str) -> None:
    archive.close()
    path = str(db)
    result = runner.invoke(app, ["search", "Хомс", "--db", path, "--json", "--lang", "ru",
                                 "--doc", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["index"] for r in rows} == {0, 1, 3}
    assert set(rows[0]) >= {"doc", "index", "ru", "en", "score", "ru_highlights",
                            "en_highlights"}
    text = runner.invoke(app, ["search", "Хомс", "--db", path, "--limit", "1"])
    assert text.exit_code == 0, text.output
    head, ru, en = text.stdout.splitlines()[:3]
    assert re.match(r"\d+:\d+ ", head) and "Хомс" in ru and "Homs" in en


def test_search_command_reports_a_bad_query_in_one_line(archive: Archive, runner,
                                                        db: Path | str) -> None:
    archive.close()
    result = runner.invoke(app, ["search", '"Хама', "--db", str(db)])
    assert result.exit_code == 2
    assert "quote" in result.stderr and "Traceback" not in result.output


def test_ranking_window_keeps_the_newest_matches_and_filters_still_reach_old_ones(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus.search

    monkeypatch.setattr(corpus.search, "RANK_WINDOW", 1)
    assert [(h.doc, h.index) for h in search(archive, "Хомс", lang="ru")] == [(2, 0)]
    assert [(h.doc, h.index) for h in search(archive, "Хомс", lang="ru", docs=[1])] == [(1, 3)]


def test_pages_do_not_overlap_when_scores_tie(db: Path | str) -> None:
    with Archive(db) as archive:
        for n in range(5):  # the same sentence in five documents: five equal scores
            _store(archive, [("Хомс взят.", "Homs is taken."), (f"Документ {n}.", f"Doc {n}.")],
                   f"d{n}")
        for lang in ("ru", "en", "both"):
            query = "Homs" if lang == "en" else "Хомс"
            pages = [(h.doc, h.index) for offset in (0, 2, 4)
                     for h in search(archive, query, lang=lang, limit=2, offset=offset)]
            assert sorted(pages) == [(d, 0) for d in range(1, 6)], lang
