"""Property-based tests of the parts that take arbitrary text from users: search queries never
raise anything but our own `QueryError` (and never reach SQLite as syntax), and glossary terms
never match inside a longer word."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.errors import QueryError
from corpus.search import search
from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.glossary import DEFAULT_GLOSSARY, Glossary, read_entries

SENTENCES = [("Город Хама освобожден.", "The city of Hama has been liberated."),
             ("Мы продолжаем двигаться на юг.", "We keep moving south.")]

# Pieces of FTS5 and SQL syntax, and words that are in the archive, so that random queries are
# often nearly valid (pure random text rarely gets past the first check).
QUERY_PIECES = ['"', "(", ")", "*", "AND", "OR", "NOT", "NEAR", "NEAR(", ",", ":", "^", "-",
                "+", "{", "}", "'", ";", "--", "/*", "DROP TABLE segments", "юг", "Хама", "хам*",
                "city", "liber*", "ё", "ru_norm", "segments_fts", " ", " ", "\t", "\\", "%", "_"]
query = st.one_of(
    st.lists(st.sampled_from(QUERY_PIECES), max_size=8).map("".join),
    st.lists(st.sampled_from(QUERY_PIECES), max_size=8).map(" ".join),
    st.text(max_size=30),
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    path = tmp_path_factory.mktemp("fuzz") / "archive.db"
    with Archive(path) as archive:
        for n, (ru, en) in enumerate(SENTENCES):
            archive.save_document(Document(path=f"{n}.txt", title=ru, text=ru),
                                  [SentencePair(doc=None, index=0, paragraph=0, ru=ru, en=en)],
                                  System("fuzz"))
    readonly = Archive(path, readonly=True)
    yield readonly
    readonly.close()


@settings(max_examples=300, deadline=None)
@given(text=query, lang=st.sampled_from(["ru", "en", "both"]), exact=st.booleans())
def test_any_query_gives_hits_or_a_query_error(archive: Archive, text: str, lang: str,
                                               exact: bool) -> None:
    try:
        hits = search(archive, text, lang=lang, exact=exact)
    except QueryError as exc:
        assert str(exc).startswith("query ")
        return
    assert all(hit.ru in {ru for ru, _ in SENTENCES} for hit in hits)


# ------------------------------------------------------------------ glossary matching


@cache
def _glossary() -> tuple[Glossary, tuple[str, ...]]:
    """The shipped glossary and every form of every term in it (read at collection time, so
    not through `load_glossary`, which would also read the user's own)."""
    glossary = Glossary(read_entries(DEFAULT_GLOSSARY))
    forms = tuple(sorted({form for entry in glossary.entries for form in glossary.forms(entry)}))
    return glossary, forms


CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
term = st.builds(
    lambda form, before, after: before + form + after,
    st.sampled_from(_glossary()[1]),
    st.one_of(st.just(""), st.text(CYRILLIC + "0123456789", min_size=1, max_size=3)),
    st.one_of(st.just(""), st.text(CYRILLIC + "0123456789", min_size=1, max_size=3)),
)
sentence = st.lists(st.one_of(term, st.sampled_from(["и", "в", "город", ",", "—", "«", "»",
                                                     "(", ")", ".", "-"])),
                    min_size=1, max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=sentence)
def test_a_term_never_matches_inside_a_longer_word(text: str) -> None:
    glossary, _ = _glossary()
    for match in glossary.match(text):
        assert text[match.start:match.end] == match.surface
        assert match.start == 0 or not text[match.start - 1].isalnum(), (text, match)
        word_end = match.start + len(match.surface.rstrip("»“”\"'"))
        assert word_end == len(text) or not text[word_end].isalnum(), (text, match)


@given(form=st.sampled_from(_glossary()[1]))
@settings(max_examples=100, deadline=None)
def test_a_term_alone_between_spaces_is_found(form: str) -> None:
    glossary, _ = _glossary()
    text = f"В сообщении: {form} , сказал он."
    start = text.index(form)
    assert any(m.start <= start and m.end >= start + len(form) for m in glossary.match(text)), form


def test_the_fuzz_archive_is_really_searched(archive: Archive) -> None:
    """The properties above would pass on an empty archive: make sure they do not."""
    assert [hit.ru for hit in search(archive, "юг")] == ["Мы продолжаем двигаться на юг."]
    assert Path(archive.path).exists()
