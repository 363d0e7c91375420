"""Search on SQLite and on PostgreSQL finds the same sentences and marks the same words.

One corpus of news sentences (names in several cases, ё, hyphenated words, numbers, quotes,
e-mail addresses and URLs; English with plurals and irregular verbs) is stored in an archive on
each backend through `Archive.save_document`, and every query of a table (every operator,
prefixes, phrases, exact forms, both languages, every filter) must give the same hits with the
same highlight offsets on both. Ranking may differ (bm25 against ts_rank), so hits are compared
as sets, with every match returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus.errors import QueryError
from corpus.pg_search import fts5
from corpus.search import (
    Hit,
    Searcher,
    en_highlights,
    en_highlights_of,
    ru_highlights,
    ru_highlights_of,
    search,
)
from corpus.store import Archive
from corpus.types import Document, SentencePair, System

MT = System("opus-mt-ru-en", "abc", "transformers", {"beam": 4})
OTHER = System("other-model", "", "ctranslate2", {"beam": 1})

RIA = [
    ("«Силы режима отступают из Хамы», — заявил представитель коалиции Иван Петров-Водкин.",
     '"Regime forces are retreating from Hama," said coalition spokesman Ivan Petrov-Vodkin.'),
    ("Северо-западный район Хомса обстреливали 3 дня подряд.",
     "The north-western district of Homs was shelled for 3 days in a row."),
    ("Ещё 12 деревень освобождены от боевиков ИГ.",
     "Another 12 villages were liberated from IS fighters."),
    ("Министр обороны Сергей Шойгу прибыл в Дамаск 5 ноября.",
     "Defence Minister Sergei Shoigu arrived in Damascus on November 5."),
    ("По данным ООН, из Алеппо бежали более 20 000 человек.",
     "According to the UN, more than 20,000 people fled Aleppo."),
    ("Ёлки на площади в Латакии украсили к Новому году.",
     "The fir trees on the square in Latakia were decorated for the New Year."),
    ("Повстанцы наступали на Хомс, но были остановлены под Хамой.",
     "The rebels were advancing on Homs but were stopped near Hama."),
]
VOSTOK = [
    ("Представители Хомса и Хамы встретились в Женеве.",
     "Representatives of Homs and Hama met in Geneva."),
    ("Вертолёт Ми-8 сбит над Идлибом; экипаж спасён.",
     "An Mi-8 helicopter was shot down over Idlib; the crew was rescued."),
    ("Командование армии подтвердило: «Наступление на Пальмиру продолжается».",
     'The army command confirmed: "The offensive on Palmyra continues."'),
    ("Жители писали на адрес info@sana.sy и звонили по телефону 8-800-555-35-35.",
     "Residents wrote to info@sana.sy and called 8-800-555-35-35."),
    ("Сводка опубликована на сайте http://www.mid.ru/ru/press в 14:30.",
     "The report was published on http://www.mid.ru/ru/press at 14:30."),
    ("Дети из Хомса вернулись в школы.", "Children from Homs went back to school."),
    ("Четвёртая дивизия покинула Хаму и двинулась на юг.",
     "The Fourth Division left Hama and moved south."),
]
NOTES = [
    ("Корреспондент «Би-би-си» Джон О'Брайен сообщил о боях в Дейр-эз-Зоре.",
     "BBC correspondent John O'Brien reported fighting in Deir ez-Zor."),
    ("«Мы не отступим», — сказал командир.", '"We won\'t retreat," the commander said.'),
    ("Бои в Хомсе идут уже 2-й месяц.", "Fighting in Homs has been going on for the 2nd month."),
    ("Силы ПВО сбили 15 беспилотников.", "Air defence forces shot down 15 drones."),
    ("Наступление сил коалиции началось в 2015 году.",
     "The coalition forces' offensive began in 2015."),
]
DOCUMENTS = [  # (rows, title, metadata, system)
    (RIA, "Сирия", {"url": "https://ria.ru/20261105/syria.html", "host": "ria.ru",
                    "site": "РИА Новости", "published": "2026-11-05"}, MT),
    (VOSTOK, "Вестник", {"url": "https://news.vostok.example.org/1",
                         "host": "news.vostok.example.org", "site": "Вестник Востока",
                         "published": "2026-11-20"}, OTHER),
    (NOTES, "Заметки", {}, MT),
]


def _store(archive: Archive) -> None:
    for rows, title, metadata, system in DOCUMENTS:
        text = " ".join(ru for ru, _ in rows)
        pairs, start = [], 0
        for i, (ru, en) in enumerate(rows):
            pairs.append(SentencePair(doc=None, index=i, paragraph=0, ru=ru, en=en,
                                      start=start, end=start + len(ru)))
            start += len(ru) + 1
        archive.save_document(Document(f"{title}.txt", title, text, metadata), pairs, system)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory, postgres) -> Iterator[dict[str, Archive]]:
    """The corpus in an SQLite file and in a PostgreSQL schema."""
    opened = {"sqlite": Archive(Path(tmp_path_factory.mktemp("backends")) / "a.db"),
              "postgresql": Archive(postgres.new_archive())}
    for archive in opened.values():
        _store(archive)
    yield opened
    for archive in opened.values():
        archive.close()


def _hits(archive: Archive, query: str, **options) -> dict[tuple[int, int], tuple]:
    found: list[Hit] = search(archive, query, limit=1000, **options)
    return {(h.doc, h.index): (h.ru_spans, h.en, h.en_spans) for h in found}


def _words(hits: dict[tuple[int, int], tuple], archive: Archive) -> dict:
    """Hits as the words they mark, for a readable failure."""
    shown = {}
    for (doc, index), (ru_spans, en, en_spans) in hits.items():
        ru = archive.sentence(doc, index)
        shown[(doc, index)] = ([ru[s:e] for s, e in ru_spans], [en[s:e] for s, e in en_spans])
    return shown


QUERIES = [  # (query, options); every one finds something
    ("Хомс", {}),
    ("Хомс", {"lang": "ru"}),
    ("Homs", {"lang": "en"}),
    ("хомсом", {"lang": "ru"}),
    ("ХАМА", {}),
    ('"сила режима"', {}),
    ('"силы режима"', {"exact": True}),
    ('"were advancing"', {"lang": "en"}),
    ("Хомс AND Хама", {}),
    ("Хомс Хама", {"lang": "ru"}),
    ("Хомс OR Пальмира", {}),
    ("Хомс NOT Хама", {}),
    ("(Хомс OR Хама) NOT дети", {"lang": "ru"}),
    ("Хомс OR Хама NOT дети", {"lang": "ru"}),  # NOT binds tightest
    ("Хомс AND (Хама OR Дамаск)", {}),
    ("(Хомс NOT Хама) OR Дамаск", {}),  # highlights only of the branches that matched
    ("освобо*", {}),
    ("Хом*", {"lang": "ru"}),
    ("наступ*", {"exact": True}),
    ("Хомс AND наступа*", {"lang": "ru"}),  # a lemma and a prefix of forms in one query
    ('"сила режима" OR "армии подтвердило"*', {"lang": "ru"}),
    ("advanc*", {"lang": "en"}),
    ("liberate*", {"lang": "en"}),  # the prefix is stemmed as FTS5's porter stems it
    ("Хомса", {"exact": True}),
    ("retreating", {"exact": True}),
    ("forces", {"exact": True, "lang": "en"}),
    ("ёлки", {"exact": True}),
    ("елка", {}),
    ("flee", {"lang": "en"}),  # fled
    ("child", {"lang": "en"}),  # children
    ("shoot", {"lang": "en"}),  # shot
    ("leave", {"lang": "en"}),  # left
    ("go", {"lang": "en"}),  # going, went
    ("северо-западный", {}),
    ('"северо западный"', {"exact": True}),
    ("Петров-Водкин", {}),
    ("Ми-8", {}),
    ("8-800-555-35-35", {}),
    ("Дейр-эз-Зор", {"lang": "ru"}),
    ("info@sana.sy", {}),
    ("sana", {"exact": True}),
    ("mid.ru", {}),
    ("http www", {}),
    ("12", {}),
    ('"20 000"', {"lang": "ru"}),
    # phrases of function words: looked up as one lexeme on PostgreSQL (corpus.pg_search)
    ('"но были"', {}),
    ('"на Хомс, но были остановлены"', {"exact": True}),
    ('"но бы"*', {"lang": "ru"}),  # a prefix is never paired
    ('"более 20 000"', {"lang": "ru"}),
    ('"more than"', {"lang": "en"}),
    ('"according to the UN"', {"lang": "en"}),
    ('"were stopped near Hama"', {"exact": True}),
    ("2015", {}),
    ("14:30", {"exact": True}),
    ("2-й", {"lang": "ru"}),
    ("O'Brien", {"lang": "en"}),
    ("О'Брайен", {"exact": True}),
    ("won't", {"lang": "en"}),
    ("«Наступление на Пальмиру»", {}),
    ("Хомс", {"docs": [2]}),
    ("Хомс OR Хама", {"since": "2026-11-10"}),
    ("Хомс OR Хама", {"until": "2026-11-10"}),
    ("Хомс OR Хама", {"since": "2026-11-05", "until": "2026-11-20"}),
    ("Хомс OR Хама", {"site": "вестник востока"}),
    ("Хомс OR Хама", {"site": "ria.ru"}),
    ("Хомс OR Хама", {"site": "vostok.example.org"}),  # a subdomain of it
    ("Хомс OR Хама", {"system": "other"}),
    ("forces", {"system": "opus", "lang": "en"}),
    ("Хомс", {"docs": [1, 3], "system": "opus", "since": "2026-01-01", "lang": "both"}),
]


@pytest.mark.parametrize(("query", "options"), QUERIES)
def test_both_backends_find_the_same_sentences_and_mark_the_same_words(
        archives: dict[str, Archive], query: str, options: dict) -> None:
    sqlite, postgresql = (_hits(archives[b], query, **options) for b in ("sqlite", "postgresql"))
    assert sqlite, f"{query!r} finds nothing: the comparison would prove nothing"
    assert _words(postgresql, archives["postgresql"]) == _words(sqlite, archives["sqlite"])
    assert postgresql == sqlite  # the very offsets


@pytest.mark.parametrize("query", ['"Хама', "AND AND", "*", "NEAR(", "Хомс AND", "NOT Хомс",
                                   "(Хомс", "Хомс)", "Хомс OR"])
def test_a_malformed_query_is_the_same_one_line_error_on_both(archives: dict[str, Archive],
                                                               query: str) -> None:
    messages = []
    for archive in archives.values():
        with pytest.raises(QueryError) as error:
            search(archive, query)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "\n" not in messages[0]


@pytest.mark.parametrize("option", [{"system": "nobody"}, {"since": "last week"},
                                    {"lang": "de"}, {"limit": 0}])
def test_bad_options_are_the_same_error_on_both(archives: dict[str, Archive],
                                                option: dict) -> None:
    messages = []
    for archive in archives.values():
        with pytest.raises(QueryError) as error:
            search(archive, "Хомс", **option)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_fuzzy_memory_candidates_are_the_same_on_both(archives: dict[str, Archive]) -> None:
    for sentence in ("Силы режима отступают к Хомсу.", "Дети Хамы вернулись в школы.",
                     "Вертолёт сбит под Идлибом."):
        found = [set(Searcher(a).similar_segments(sentence)) for a in archives.values()]
        assert found[0] and found[0] == found[1], sentence


def test_scores_rank_best_first_on_both(archives: dict[str, Archive]) -> None:
    for archive in archives.values():
        scores = [h.score for h in search(archive, "Хомс OR Хама", limit=100)]
        assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_pages_do_not_overlap_on_postgresql(archives: dict[str, Archive]) -> None:
    archive = archives["postgresql"]
    everything = [(h.doc, h.index) for h in search(archive, "Хомс OR Хама", limit=100)]
    pages = [(h.doc, h.index) for offset in range(0, len(everything), 3)
             for h in search(archive, "Хомс OR Хама", limit=3, offset=offset)]
    assert pages == everything and len(everything) > 6


# ---------------------------------------------------------------- the tokens indexed


@given(st.text(max_size=40))
def test_python_tokenization_is_fts5s(text: str) -> None:
    """The tokens PostgreSQL indexes are the ones FTS5 makes, for any text (the quick path
    learnt from FTS5 must not drift from FTS5 itself)."""
    tokens = fts5()
    for name in ("ru", "en"):
        assert tokens.tokens(text, name) == tokens.fts5_tokens([text], name)[0]


# ---------------------------------------------------------------- highlights of any query

WORDS = ["Хомс", "Хама", "дети", '"сила режима"', "наступ*", "Хомса", "Дамаск", "юг",
         "Homs", "Hama", "forces", "advanc*", '"were advancing"', "left", "children", "school"]


def _random_query(rng, depth: int = 0) -> str:
    if depth >= 3 or rng.random() < 0.35:
        return rng.choice(WORDS)
    op = rng.choice(["AND", "OR", "OR"])
    return f"({_random_query(rng, depth + 1)} {op} {_random_query(rng, depth + 1)})"


def test_highlights_are_fts5s_for_any_query_without_not(archives: dict[str, Archive]) -> None:
    """Both backends compute highlights term by term (corpus.fts5.marks); for random queries
    without NOT that is exactly what FTS5's highlight() of the whole query marks in SQLite's
    index. (With NOT, highlight() depends on where FTS5's iterators stand in the whole table:
    see the next test.)"""
    import random

    from corpus.search import (
        Fts5Index,
        _marked_spans,
        _marked_tokens,
        _render_en,
        _render_ru,
        _token_spans,
        parse_query,
    )

    archive = archives["sqlite"]
    index = Fts5Index(archive.db)
    rng = random.Random(16)
    compared = 0
    for _ in range(300):
        query = _random_query(rng)
        node = parse_query(query)
        for exact in (False, True):
            # all of a query's hits highlighted at once, as a page of hits is
            segments = [segment for segment, _ in index.ru(node, exact, ([], []), [], 1000,
                                                           1000)]
            rows = [archive.db.execute("SELECT ru, ru_norm, ru_lemmas FROM segments"
                                       " WHERE id = ?", (segment,)).fetchone()
                    for segment in segments]
            for segment, row, ours in zip(segments, rows, ru_highlights_of(node, exact, rows),
                                          strict=True):
                ru = row[0]
                fts = archive.db.execute(
                    "SELECT highlight(segments_fts, 0, '\x02', '\x03'),"
                    " highlight(segments_fts, 1, '\x02', '\x03') FROM segments_fts"
                    " WHERE segments_fts MATCH ? AND rowid = ?",
                    (_render_ru(node, exact), segment)).fetchone()
                theirs = _token_spans(ru, _marked_tokens(fts[0]) | _marked_tokens(fts[1]))
                assert ours == theirs, (query, ru)
                assert ru_highlights(node, exact, *row) == ours  # one hit alone: the same
                compared += 1
            table = "translations_fts_exact" if exact else "translations_fts"
            translations = [t for _, _, t in index.en(node, exact, ([], []), [], 1000, 1000)]
            texts = index.en_texts(translations)
            pairs = [(texts[t][0], texts[t][2]) for t in translations]
            for translation, (en, en_lemmas), ours in zip(
                    translations, pairs, en_highlights_of(node, exact, pairs), strict=True):
                fts = archive.db.execute(
                    f"SELECT highlight({table}, 0, '\x02', '\x03') FROM {table}"
                    f" WHERE {table} MATCH ? AND rowid = ?",
                    (_render_en(node, exact), translation)).fetchone()[0]
                theirs = (_marked_spans(fts) if exact else
                          _token_spans(en, _marked_tokens(fts)))
                assert ours == theirs, (query, en)
                assert en_highlights(node, exact, en, en_lemmas) == ours  # alone: the same
                compared += 1
    assert compared > 300


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_words_after_not_are_never_highlighted(archives: dict[str, Archive], backend: str
                                               ) -> None:
    hits = search(archives[backend], "Хомс OR (Хама NOT дети) OR (Женеве NOT Хомса)",
                  lang="ru", limit=100)
    marked = {h.ru: [h.ru[s:e] for s, e in h.ru_spans] for h in hits}
    assert marked["Дети из Хомса вернулись в школы."] == ["Хомса"]
    assert marked["Представители Хомса и Хамы встретились в Женеве."] == ["Хомса", "Хамы"]
    assert marked["Четвёртая дивизия покинула Хаму и двинулась на юг."] == ["Хаму"]
