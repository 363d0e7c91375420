"""Full-text search on PostgreSQL: the same words match as on SQLite.

SQLite's FTS5 decides what a word is (its `unicode61` tokenizer: which characters join a
token, how case and diacritics fold) and what the Porter stem of an English key is. To match
the same sentences, PostgreSQL indexes exactly those tokens, made in Python by FTS5's own
tokenizers (corpus.fts5), stored as the lexemes of a `tsvector` written as text
(`'хомс':1 '=хомсом':9`): never by `to_tsvector`, whose parser splits `северо-западный`, e-mail
addresses and URLs its own way and whose `lower()` depends on the server's locale. No text
search configuration is involved at all (so none stems our keys again). Queries are `tsquery`s
built from the same tree the FTS5 query is rendered from (corpus.search.parse_query), with the
same keys, phrases as `<->`, prefixes as `:*`.

One vector per row holds both of FTS5's columns: on `segments.ru_search` the lemma keys of
`ru_lemmas` (positions 1..n) and the word forms of `ru_norm` marked with a leading `=`
(positions after n); on `translations.en_search` the Porter stems of the English lemma keys
(`en_lemmas`, stored) and the word forms of `en` marked `=`. A query picks its side by the
mark, so a Russian query may mix lemmas and prefixes of forms (`Хомс AND освобо*`) as on
SQLite, and a phrase never runs from one side into the other (its words are all marked or all
not). Highlights are computed by corpus.search for both backends alike.

PostgreSQL's limits, which FTS5 has not: a lexeme of more than 2047 bytes is left out of the
index (and cannot be searched for), positions above 16,383 count as 16,383 (a phrase that far
into one sentence may be missed) and a lexeme keeps 256 positions at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from corpus.errors import QueryError
from corpus.fts5 import fts5
from corpus.lemma import english_key, fold, lemma_key

if TYPE_CHECKING:
    from corpus.search import Node

FORM = "="  # marks a word form (as against a lemma key or stem); no token holds it
#: PostgreSQL refuses a lexeme longer than this (bytes); such a token is left out of the index.
MAX_LEXEME_BYTES = 2047

# ---------------------------------------------------------------- the stored vectors


def _quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:  # never in FTS5's tokens (letters, digits): a guard
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return f"'{lexeme}'"


#: Function words, whose phrases are looked up as one lexeme (see `_vector`): closed-class
#: words (prepositions, conjunctions, particles, pronouns, auxiliaries) and the commonest
#: adverbs of news text. Each is in a large share of sentences, so a phrase of two of them
#: (`"в на"`, `"of the"`) cannot be checked row by row. Their lemma keys (and English stems)
#: count too (`common_tokens`). A word added here later leaves archives stored before without
#: its pairs: phrases of it would miss them until `ruen archive copy` rebuilds the index.
COMMON_WORDS = {language: words.split() for language, words in {"ru": """
    в во на под к ко от из изо после с со у о об обо по за над перед при про для до без через
    между около вокруг среди против ради вдоль возле кроме вместо мимо внутри согласно
    и а но или либо что чтобы как если когда хотя потому так также тоже ни же ли да то бы
    затем не вот уже еще даже только лишь именно ведь более менее больше очень почти где там
    здесь тогда теперь сейчас всего
    он она оно они его ее ему ей им ими их него нее нему ней ним них я мы ты вы меня мне нас
    нам вас вам себя себе собой свой своя свое свои своего своей своих своим это этот эта эти
    этого этой этих этом этому этим тот та те того той тех том тому тем который которая
    которое которые которого которой которых котором которому которым весь вся все всего всей
    всех всем всеми сам сама само сами такой такая такие такого кто чего чем чему
    быть был была было были будет будут есть является являются
    """, "en": """
    the a an of in on at to from by with for about after before into over under between
    through during against without within near and or but nor so yet that this these those
    which who whom whose what when where while if than then as is are was were be been being
    am has have had do does did will would shall should can could may might must it its he
    him his she her they them their we us our you your i me my not no also already still
    just only more most less very there here all any some each both such other one two
    """}.items()}


@lru_cache(maxsize=2)
def common_tokens(language: str) -> frozenset[str]:
    """The tokens whose neighbour pairs are lexemes: COMMON_WORDS of `language` ("ru" or
    "en") as word forms and as lemma keys (Russian) or stems of lemma keys (English), as
    each side of a vector holds them."""
    tokens = fts5()
    forms = [token for word in COMMON_WORDS[language] for token in tokens.tokens(word, language)]
    keys = ([lemma_key(form) for form in forms] if language == "ru" else
            [tokens.stem(english_key(form)) for form in forms])
    return frozenset(forms + keys)


def _fits(lexeme: str) -> bool:
    return len(lexeme) * 4 <= MAX_LEXEME_BYTES or len(lexeme.encode()) <= MAX_LEXEME_BYTES


def _vector(parts: Iterable[tuple[str, Sequence[str]]], common: frozenset[str]) -> str:
    """A tsvector literal of parts (mark, tokens), each after the previous one: every token
    (marked) at its position, and every two neighbours that are both `common` as one lexeme
    (`=в на`) at the first one's, so that a phrase of two function words is found by the
    index alone (see `_Phrase`). A lexeme is written once per position: PostgreSQL's input
    joins the positions of the same lexeme (`'в':3 'в':8` is `'в':3,8`)."""
    entries: list[str] = []
    start = 1
    for mark, tokens in parts:
        entries += [f"'{mark}{token}':{position}"
                    for position, token in enumerate(tokens, start) if _fits(mark + token)]
        entries += [f"'{mark}{token} {following}':{position}" for position, (token, following)
                    in enumerate(pairwise(tokens), start)
                    if token in common and following in common]  # short words: they fit
        start += len(tokens)
    text = " ".join(entries)
    if "\\" in text or text.count("'") != 2 * len(entries):  # never: tokens are letters, digits
        text = " ".join(_quote(entry[1:entry.rindex("'")]) + entry[entry.rindex("'") + 1:]
                        for entry in entries)
    return text


def segment_vector(ru_norm: str, ru_lemmas: str) -> str:
    """The `segments.ru_search` of a sentence (a tsvector as text: `CAST(? AS tsvector)`)."""
    tokens = fts5()
    return _vector((("", tokens.tokens(ru_lemmas, "ru")), (FORM, tokens.tokens(ru_norm, "ru"))),
                   common_tokens("ru"))


def translation_vector(en: str, en_lemmas: str) -> str:
    """The `translations.en_search` of a translation (`en_lemmas`: english_lemma_text(en))."""
    tokens = fts5()
    return _vector((("", [tokens.stem(t) for t in tokens.tokens(en_lemmas, "en")]),
                    (FORM, tokens.tokens(en, "en"))), common_tokens("en"))


def migrate(db: Any) -> None:
    """The search columns and their GIN indexes (called by corpus.pg_schema's migration 2,
    inside its transaction); rows already stored are indexed here."""
    db.execute("""
        ALTER TABLE segments ADD COLUMN ru_search tsvector NOT NULL DEFAULT '';
        ALTER TABLE translations ADD COLUMN en_search tsvector NOT NULL DEFAULT '';
        """)
    rows = db.execute("SELECT id, ru_norm, ru_lemmas FROM segments").fetchall()
    db.executemany("UPDATE segments SET ru_search = CAST(? AS tsvector) WHERE id = ?",
                   [(segment_vector(r[1], r[2]), r[0]) for r in rows])
    rows = db.execute("SELECT id, en, en_lemmas FROM translations").fetchall()
    db.executemany("UPDATE translations SET en_search = CAST(? AS tsvector) WHERE id = ?",
                   [(translation_vector(r[1], r[2]), r[0]) for r in rows])
    db.execute("""
        CREATE INDEX segments_ru_search ON segments USING gin (ru_search);
        CREATE INDEX translations_en_search ON translations USING gin (en_search);
        """)


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class _Phrase:
    """Tokens of `language` that must follow each other (the last one a prefix when
    `prefix`), of one side (`mark`). Two function words in a row are looked up as their pair
    (`=в на`, which the index holds): a `<->` of two words each in a fifth of the sentences
    would make PostgreSQL read every row holding both to check their positions (seconds at a
    million sentences). Any other neighbours are single lexemes joined by `<->`: the rows
    holding both words are few when one of them is not a function word."""

    tokens: tuple[str, ...]
    prefix: bool
    language: str
    mark: str = ""

    def lexemes(self) -> list[str]:
        """One lexeme per position: the pair of it and the next word when both are common
        (never with the prefix: the words it stands for may not be), else the word; the last
        word is left out when the pair before holds it."""
        common, tokens, last = common_tokens(self.language), self.tokens, len(self.tokens) - 1
        paired = [i < last and token in common and tokens[i + 1] in common
                  and not (self.prefix and i + 1 == last) for i, token in enumerate(tokens)]
        lexemes = [self.mark + (f"{tokens[i]} {tokens[i + 1]}" if paired[i] else tokens[i])
                   for i in range(last)]
        if last == 0 or not paired[last - 1]:
            lexemes.append(self.mark + tokens[last])
        return lexemes

    def tsquery(self) -> str:
        if not self.tokens:  # FTS5 matches nothing for a phrase without tokens (a word
            return _quote(FORM)  # of characters it drops); nor does a lone mark
        lexemes = self.lexemes()
        for lexeme in lexemes:
            if len(lexeme.encode()) > MAX_LEXEME_BYTES:
                raise QueryError(f"a phrase or word of {len(lexeme.encode())} bytes cannot be "
                                 f"searched for on PostgreSQL (at most {MAX_LEXEME_BYTES}).")
        words = [_quote(lexeme) for lexeme in lexemes]
        if self.prefix:
            words[-1] += ":*"
        return words[0] if len(words) == 1 else "(" + " <-> ".join(words) + ")"


def _render(node: Node, phrase: Any) -> str:
    from corpus.search import Op

    if isinstance(node, Op):
        left, right = _render(node.left, phrase), _render(node.right, phrase)
        if node.op == "NOT":
            return f"({left} & !{right})"
        return f"({left} {'&' if node.op == 'AND' else '|'} {right})"
    return phrase(node).tsquery()


def ru_tsquery(node: Node, exact: bool) -> str:
    """The Russian side of a query, as corpus.search renders it for FTS5: lemma keys, or word
    forms for `exact` and prefixes."""
    tokens = fts5()

    def phrase(term: Any) -> _Phrase:
        if exact or term.prefix:
            return _Phrase(tuple(tokens.tokens(" ".join(fold(w) for w in term.words), "ru")),
                           term.prefix, "ru", FORM)
        return _Phrase(tuple(tokens.tokens(" ".join(lemma_key(w) for w in term.words), "ru")),
                       False, "ru")

    return _render(node, phrase)


def en_tsquery(node: Node, exact: bool) -> str:
    """The English side: Porter stems of lemma keys (a prefix stays as typed, then stemmed, as
    FTS5's porter tokenizer stems it), or word forms for `exact`."""
    tokens = fts5()

    def phrase(term: Any) -> _Phrase:
        words = [w.casefold() for w in term.words]
        if exact:
            return _Phrase(tuple(tokens.tokens(" ".join(words), "en")), term.prefix, "en", FORM)
        words = [english_key(w) for w in words[:-1]] + [
            words[-1] if term.prefix else english_key(words[-1])]
        return _Phrase(tuple(tokens.stem(t) for t in tokens.tokens(" ".join(words), "en")),
                       term.prefix, "en")

    return _render(node, phrase)


# ---------------------------------------------------------------- the index queries

#: ts_rank's normalisation: rank divided by 1 + log(number of words), so that, as with bm25,
#: a word in a short sentence ranks above the same word in a long one.
RANK_NORMALIZATION = 1
#: ts_rank is computed for the newest this many matches per language (or as many as a page
#: asks for, up to corpus.search.RANK_WINDOW): ranking a match reads its row, which costs
#: PostgreSQL more than FTS5 (whose bm25 reads only its index).
PG_RANK_WINDOW = 500


class PgIndex:
    """What corpus.search.Searcher asks of the index, on PostgreSQL. Ranks are minus ts_rank
    (lower is better, as FTS5's bm25)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of a search statement, planned for its own parameters (the archive's
        connections never prepare one, corpus.db.CONNECTION_OPTIONS: one plan for any tsquery
        was measured 6-9 times slower for a common word)."""
        import psycopg

        try:
            return self.db.execute(sql, params).fetchall()
        except (psycopg.errors.SyntaxError, psycopg.errors.DataError) as exc:
            # the tsquery is ours: a guard, not a path
            raise QueryError(f"cannot run this query ({str(exc).splitlines()[0]}); "
                             "simplify it.") from None

    @staticmethod
    def _filters(documents: tuple[list[str], list[Any]], systems: Sequence[int],
                 translations: bool) -> tuple[str, list[Any]]:
        where, params = documents
        sql = "".join(" AND " + condition for condition in where)
        params = list(params)
        if systems:
            marks = ",".join("?" * len(systems))
            sql += (f" AND t.system_id IN ({marks})" if translations else
                    " AND EXISTS (SELECT 1 FROM translations t WHERE t.segment_id = s.id"
                    f" AND t.system_id IN ({marks}))")
            params += list(systems)
        return sql, params

    def _ranked(self, table: str, alias: str, column: str, query: str, join: str,
                where: str, params: list[Any], window: int, fetch: int) -> list[Any]:
        """Rows (id, [segment_id,] rank) of the newest `window` rows of `table` matching
        `query`, best ranked first, at most `fetch`.

        The matches' rows must be read to rank them (the vectors live in the table, not in the
        index: about 2 µs a row), so the newest are looked for among the newest ids first, in
        a range grown until it holds `window` matches (the index finds the ids in a range, and
        PostgreSQL reads only the rows in both): a word in every tenth of a million sentences
        costs the rows of one window, not the 100,000 rows it is in. Ordered by `id + 0`, which
        no index provides: by `id`, PostgreSQL walked the primary key backwards and filtered
        every row by the tsquery (84,000 rows for 2,000 matches of a common word, 52 ms)."""
        top = self.db.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
        segment = ", w.segment_id" if table == "translations" else ""
        span = window * 50  # a word in 2% of the sentences: one step
        while True:
            bounded = span < top
            rows = self._run(
                f"SELECT w.id{segment}, -ts_rank(w.v, CAST(? AS tsquery), {RANK_NORMALIZATION})"
                " AS r, count(*) OVER () AS n"
                f" FROM (SELECT {alias}.id{segment.replace('w.', f' {alias}.')},"
                f" {alias}.{column} AS v FROM {table} {alias}{join}"
                f" WHERE {alias}.{column} @@ CAST(? AS tsquery){where}"
                + (f" AND {alias}.id > ?" if bounded else "")
                + f" ORDER BY {alias}.id + 0 DESC LIMIT ?) w ORDER BY r, w.id DESC LIMIT ?",
                [query, query, *params, *([top - span] if bounded else []), window, fetch])
            found = rows[0][-1] if rows else 0
            if found >= window or not bounded:
                return [tuple(r)[:-1] for r in rows]
            # grow the range to where `window` matches should be, by their density so far
            span = span * 16 if not found else int(span * window / found * 1.5) + 1

    def ru(self, node: Node, exact: bool, documents: tuple[list[str], list[Any]],
           systems: Sequence[int], wanted: int, window: int) -> list[tuple[int, float]]:
        where, params = self._filters(documents, systems, translations=False)
        rows = self._ranked("segments", "s", "ru_search", ru_tsquery(node, exact), "", where,
                            params, min(window, max(PG_RANK_WINDOW, wanted)), wanted)
        return [(r[0], r[1]) for r in rows]

    def en(self, node: Node, exact: bool, documents: tuple[list[str], list[Any]],
           systems: Sequence[int], wanted: int, window: int) -> list[tuple[int, float, int]]:
        """Best-ranked matching translation per sentence; equal ranks newest first."""
        query = en_tsquery(node, exact)
        where, params = self._filters(documents, systems, translations=True)
        join = " JOIN segments s ON s.id = t.segment_id" if documents[0] else ""
        from corpus.search import best_per_sentence

        def ranked(fetch: int) -> list[tuple[int, int, float]]:
            return self._ranked("translations", "t", "en_search", query, join, where, params,
                                min(window, max(PG_RANK_WINDOW, fetch)), fetch)

        return best_per_sentence(ranked, wanted)

    # ------------------------------------------------------------ highlights

    def en_texts(self, translations: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """(English, kind, English lemma keys as stored) of each translation."""
        if not translations:
            return {}
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT id, en, kind, en_lemmas FROM translations"
            f" WHERE id IN ({','.join('?' * len(translations))})", list(translations))}

    # ------------------------------------------------------------ translation memory

    def key_counts(self, keys: Sequence[str], cap: int | None) -> list[tuple[int, str]]:
        """(sentences holding the lemma key, key); counted up to `cap` (a key in more
        sentences is not read to the end)."""
        counted = []
        for key in keys:
            query = _Phrase(tuple(fts5().tokens(key, "ru")), False, "ru").tsquery()
            count = self._run(
                "SELECT count(*) FROM (SELECT 1 FROM segments"
                " WHERE ru_search @@ CAST(? AS tsquery) LIMIT ?) c", (query, cap))[0][0]
            counted.append((count, key))
        return counted

    def with_keys(self, keys: Sequence[str], limit: int) -> list[tuple[int, str]]:
        """(id, Russian) of the sentences holding any of the lemma keys, best ranked first."""
        query = " | ".join(_Phrase(tuple(fts5().tokens(k, "ru")), False, "ru").tsquery()
                           for k in keys)
        rows = self._run(
            "SELECT id, ru FROM segments WHERE ru_search @@ CAST(? AS tsquery)"
            f" ORDER BY ts_rank(ru_search, CAST(? AS tsquery), {RANK_NORMALIZATION}) DESC,"
            " id DESC LIMIT ?", [query, query, limit])
        return [(r[0], r[1]) for r in rows]
