"""Full-text search on PostgreSQL: the same words match as on SQLite.

SQLite's FTS5 decides what a word is (its `unicode61` tokenizer: which characters join a
token, how case and diacritics fold) and what the Porter stem of an English key is. To match
the same sentences, PostgreSQL indexes exactly those tokens: they are made here, in Python, by
the very tokenizers FTS5 uses (`Fts5Tokens`), and stored as the lexemes of a `tsvector` built
from text we write (`'хомс':1 '=хомсом':9`), never by `to_tsvector`, whose parser splits
`северо-западный`, e-mail addresses and URLs its own way and whose `lower()` depends on the
server's locale. Queries are `tsquery`s built from the same tree the FTS5 query is rendered
from (corpus.search.parse_query), with the same keys.

One vector per row holds both of FTS5's columns: on `segments.ru_search` the lemma keys of
`ru_lemmas` (positions 1..n) and the word forms of `ru_norm` marked with a leading `=`
(positions after n); on `translations.en_search` the Porter stems of the English lemma keys
(`en_lemmas`) and the word forms of `en` marked `=`. A query picks its side by the mark, so a
Russian query may mix lemmas and prefixes of forms (`Хомс AND освобо*`) as on SQLite, and a
phrase never runs from one side into the other (its words are all marked or all not).

Highlights are FTS5's own: the hit's row is put into an in-memory FTS5 table with the same
columns and tokenizer, and FTS5's `highlight()` runs the same query on it, so that both
backends mark the same words (FTS5 leaves out words of a branch that did not match, e.g.
`(Хомс NOT Хама) OR Дамаск`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from corpus.errors import QueryError
from corpus.lemma import english_key, fold, lemma_key

if TYPE_CHECKING:
    from corpus.search import Node

#: FTS5's tokenizers, by the name this module gives them.
TOKENIZERS = {"ru": "unicode61 remove_diacritics 0",  # segments_fts
              "en": "unicode61"}  # translations_fts_exact; translations_fts is porter over it
FORM = "="  # marks a word form (as against a lemma key or stem); no token holds it
#: PostgreSQL refuses a lexeme longer than this (bytes); such a token is left out of the index.
MAX_LEXEME_BYTES = 2047
#: Characters whose tokenization is learnt from FTS5 once and then done by str.translate:
#: Latin, Greek, Cyrillic, punctuation and symbols, CJK punctuation, full-width forms. Any
#: other character sends its text through FTS5 itself (slower, the same result).
_KNOWN_RANGES = ((0x01, 0x2FF), (0x370, 0x52F), (0x2000, 0x2BFF), (0x3000, 0x303F),
                 (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


# ---------------------------------------------------------------- FTS5's tokens, in Python


class Fts5Tokens:
    """FTS5's tokenizers and highlighter on an in-memory SQLite database of this process.

    `tokens(text, "ru")` is what FTS5 indexes for `text` in a `unicode61 remove_diacritics 0`
    column; `stem(token)` what the `porter` tokenizer makes of a token; `highlight` runs an FTS5
    query on one row. One per thread (a SQLite connection is not shared between threads)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        tables = {f"tok_{name}": ("x", tokenizer) for name, tokenizer in TOKENIZERS.items()}
        tables["tok_porter"] = ("x", "porter unicode61")
        # the search tables, with the columns (and so the column filters) of the archive's
        tables |= {"ru": ("ru_norm, ru_lemmas", TOKENIZERS["ru"]),
                   "en_stems": ("en_lemmas", "porter unicode61"),
                   "en_exact": ("en", TOKENIZERS["en"])}
        for table, (columns, tokenizer) in tables.items():
            self.db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({columns},"
                            f" tokenize='{tokenizer}')")
            if table.startswith("tok_"):  # each token with its position
                self.db.execute(f"CREATE VIRTUAL TABLE {table}_v USING fts5vocab({table},"
                                " 'instance')")
        self.tables = {name: self._learn(name) for name in TOKENIZERS}
        # deletes every learnt character: what is left of a text is what was not learnt
        self.unknown = {name: dict.fromkeys(table) for name, table in self.tables.items()}
        self.stem = lru_cache(maxsize=200_000)(self._stem)

    # ------------------------------------------------------------ tokens

    def fts5_tokens(self, texts: Sequence[str], name: str) -> list[list[str]]:
        """FTS5's tokens of each text (in order), by FTS5 itself."""
        table = "tok_" + name
        self.db.execute("BEGIN")
        try:
            self.db.executemany(f"INSERT INTO {table} (rowid, x) VALUES (?, ?)",
                                enumerate(texts))
            found: list[list[tuple[int, str]]] = [[] for _ in texts]
            for term, doc, offset in self.db.execute(
                    f"SELECT term, doc, offset FROM {table}_v"):
                found[doc].append((offset, term))
        finally:
            self.db.execute("ROLLBACK")
        return [[term for _, term in sorted(tokens)] for tokens in found]

    def _learn(self, name: str) -> dict[int, str | None]:
        """str.translate table: a known character to what FTS5 makes of it inside a token
        ("" when it drops it), or to a space when it separates tokens."""
        chars = [chr(c) for low, high in _KNOWN_RANGES for c in range(low, high + 1)
                 if not 0xD800 <= c <= 0xDFFF]
        table: dict[int, str | None] = {}
        for char, tokens in zip(chars, self.fts5_tokens([f"a{c}b" for c in chars], name),
                                strict=True):
            if tokens == ["a", "b"]:
                table[ord(char)] = " "
            elif len(tokens) == 1 and len(tokens[0]) <= 3 and tokens[0][0] == "a" \
                    and tokens[0][-1] == "b":
                table[ord(char)] = tokens[0][1:-1]
            # else: FTS5 does something else with it (e.g. folds it into two characters):
            # left out, so that texts holding it go through FTS5
        return table

    def tokens(self, text: str, name: str) -> list[str]:
        """FTS5's tokens of `text` for the tokenizer `name` ("ru" or "en")."""
        if text.translate(self.unknown[name]):  # characters not learnt: FTS5 itself
            return self.fts5_tokens([text], name)[0]
        return text.translate(self.tables[name]).split()

    def _stem(self, token: str) -> str:
        stems = self.fts5_tokens([token], "porter")[0]
        return stems[0] if len(stems) == 1 else token

    # ------------------------------------------------------------ highlights

    def highlight(self, table: str, values: dict[str, str], query: str, on: str, off: str
                  ) -> tuple[str, ...] | None:
        """FTS5's highlight() of every column of a one-row `table` holding `values`, for the
        FTS5 `query`; None when the row does not match."""
        columns = list(values)
        self.db.execute("BEGIN")
        try:
            self.db.execute(f"INSERT INTO {table} (rowid, {', '.join(columns)})"
                            f" VALUES (1{', ?' * len(columns)})", list(values.values()))
            marks = ", ".join(f"highlight({table}, {i}, ?, ?)" for i in range(len(columns)))
            row = self.db.execute(f"SELECT {marks} FROM {table} WHERE {table} MATCH ?",
                                  [*(on, off) * len(columns), query]).fetchone()
        finally:
            self.db.execute("ROLLBACK")
        return tuple(row) if row else None


_local = threading.local()


def fts5() -> Fts5Tokens:
    """This thread's Fts5Tokens."""
    tokens = getattr(_local, "tokens", None)
    if tokens is None:
        tokens = _local.tokens = Fts5Tokens()
    return tokens


# ---------------------------------------------------------------- the stored vectors


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _vector(parts: Iterable[Sequence[str]]) -> str:
    """A tsvector literal: each part's lexemes at the positions after the previous part's."""
    positions: dict[str, list[int]] = {}
    position = 0
    for lexemes in parts:
        for lexeme in lexemes:
            position += 1
            if len(lexeme.encode()) <= MAX_LEXEME_BYTES:
                positions.setdefault(lexeme, []).append(position)
    return " ".join(f"{_quote(lexeme)}:{','.join(map(str, found))}"
                    for lexeme, found in positions.items())


def segment_vector(ru_norm: str, ru_lemmas: str) -> str:
    """The `segments.ru_search` of a sentence (a tsvector as text: `CAST(? AS tsvector)`)."""
    tokens = fts5()
    return _vector((tokens.tokens(ru_lemmas, "ru"),
                    [FORM + t for t in tokens.tokens(ru_norm, "ru")]))


def translation_vector(en: str, en_lemmas: str) -> str:
    """The `translations.en_search` of a translation (`en_lemmas`: english_lemma_text(en))."""
    tokens = fts5()
    return _vector(([tokens.stem(t) for t in tokens.tokens(en_lemmas, "en")],
                    [FORM + t for t in tokens.tokens(en, "en")]))


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
    lexemes: tuple[str, ...]
    prefix: bool

    def tsquery(self) -> str:
        if not self.lexemes:  # FTS5 matches nothing for a phrase without tokens (a word
            return _quote(FORM)  # of characters it drops); nor does a lone mark
        for lexeme in self.lexemes:
            if len(lexeme.encode()) > MAX_LEXEME_BYTES:
                raise QueryError(f"a word of {len(lexeme.encode())} bytes cannot be searched "
                                 f"for on PostgreSQL (at most {MAX_LEXEME_BYTES}).")
        words = [_quote(lexeme) for lexeme in self.lexemes]
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
            return _Phrase(tuple(FORM + t for t in tokens.tokens(
                " ".join(fold(w) for w in term.words), "ru")), term.prefix)
        return _Phrase(tuple(tokens.tokens(" ".join(lemma_key(w) for w in term.words), "ru")),
                       False)

    return _render(node, phrase)


def en_tsquery(node: Node, exact: bool) -> str:
    """The English side: Porter stems of lemma keys (a prefix stays as typed, then stemmed, as
    FTS5's porter tokenizer stems it), or word forms for `exact`."""
    tokens = fts5()

    def phrase(term: Any) -> _Phrase:
        words = [w.casefold() for w in term.words]
        if exact:
            return _Phrase(tuple(FORM + t for t in tokens.tokens(" ".join(words), "en")),
                           term.prefix)
        words = [english_key(w) for w in words[:-1]] + [
            words[-1] if term.prefix else english_key(words[-1])]
        return _Phrase(tuple(tokens.stem(t) for t in tokens.tokens(" ".join(words), "en")),
                       term.prefix)

    return _render(node, phrase)


# ---------------------------------------------------------------- the index queries

#: ts_rank's normalisation: rank divided by 1 + log(number of words), so that, as with bm25,
#: a word in a short sentence ranks above the same word in a long one.
RANK_NORMALIZATION = 1


class PgIndex:
    """What corpus.search.Searcher asks of the index, on PostgreSQL. Ranks are minus ts_rank
    (lower is better, as FTS5's bm25)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
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

    def ru(self, node: Node, exact: bool, documents: tuple[list[str], list[Any]],
           systems: Sequence[int], wanted: int, window: int) -> list[tuple[int, float]]:
        query = ru_tsquery(node, exact)
        where, params = self._filters(documents, systems, translations=False)
        # the newest `window` matches are ranked, as on SQLite; ts_rank only for those
        rows = self._run(
            f"SELECT w.id, -ts_rank(w.v, CAST(? AS tsquery), {RANK_NORMALIZATION}) AS r"
            " FROM (SELECT s.id, s.ru_search AS v FROM segments s"
            f" WHERE s.ru_search @@ CAST(? AS tsquery){where} ORDER BY s.id DESC LIMIT ?) w"
            " ORDER BY r, w.id DESC LIMIT ?",
            [query, query, *params, window, wanted])
        return [(r[0], r[1]) for r in rows]

    def en(self, node: Node, exact: bool, documents: tuple[list[str], list[Any]],
           systems: Sequence[int], wanted: int, window: int) -> list[tuple[int, float, int]]:
        """Best-ranked matching translation per sentence; equal ranks newest first."""
        query = en_tsquery(node, exact)
        where, params = self._filters(documents, systems, translations=True)
        join = " JOIN segments s ON s.id = t.segment_id" if documents[0] else ""
        found: dict[int, tuple[int, float, int]] = {}
        fetch = wanted * 2
        while True:
            rows = self._run(
                "SELECT w.id, w.segment_id,"
                f" -ts_rank(w.v, CAST(? AS tsquery), {RANK_NORMALIZATION}) AS r"
                " FROM (SELECT t.id, t.segment_id, t.en_search AS v FROM translations t"
                f"{join} WHERE t.en_search @@ CAST(? AS tsquery){where}"
                " ORDER BY t.id DESC LIMIT ?) w ORDER BY r, w.id DESC LIMIT ?",
                [query, query, *params, window, fetch])
            found.clear()
            for translation, segment, rank in rows:
                found.setdefault(segment, (segment, rank, translation))
            if len(found) >= wanted or len(rows) < fetch:
                return list(found.values())[:wanted]
            fetch *= 4

    # ------------------------------------------------------------ highlights

    def ru_highlights(self, fts_query: str, segment: int, on: str, off: str
                      ) -> tuple[str, ...] | None:
        """FTS5's highlight() of both Russian columns of the sentence (see the docstring)."""
        row = self.db.execute("SELECT ru_norm, ru_lemmas FROM segments WHERE id = ?",
                              (segment,)).fetchone()
        return fts5().highlight("ru", {"ru_norm": row[0], "ru_lemmas": row[1]}, fts_query,
                                on, off)

    def en_highlight(self, fts_query: str, exact: bool, translation: int, on: str, off: str
                     ) -> tuple[str, str, str | None]:
        """(English, kind, FTS5's highlight() of the indexed column) of a translation."""
        en, kind, en_lemmas = self.db.execute(
            "SELECT en, kind, en_lemmas FROM translations WHERE id = ?",
            (translation,)).fetchone()
        marked = (fts5().highlight("en_exact", {"en": en}, fts_query, on, off) if exact else
                  fts5().highlight("en_stems", {"en_lemmas": en_lemmas}, fts_query, on, off))
        return en, kind, marked[0] if marked else None

    # ------------------------------------------------------------ translation memory

    def key_counts(self, keys: Sequence[str], cap: int | None) -> list[tuple[int, str]]:
        """(sentences holding the lemma key, key); counted up to `cap` (a key in more
        sentences is not read to the end)."""
        counted = []
        for key in keys:
            query = _Phrase(tuple(fts5().tokens(key, "ru")), False).tsquery()
            count = self.db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM segments"
                " WHERE ru_search @@ CAST(? AS tsquery) LIMIT ?) c",
                (query, cap)).fetchone()[0]
            counted.append((count, key))
        return counted

    def with_keys(self, keys: Sequence[str], limit: int) -> list[tuple[int, str]]:
        """(id, Russian) of the sentences holding any of the lemma keys, best ranked first."""
        query = " | ".join(_Phrase(tuple(fts5().tokens(k, "ru")), False).tsquery()
                           for k in keys)
        rows = self._run(
            "SELECT id, ru FROM segments WHERE ru_search @@ CAST(? AS tsquery)"
            f" ORDER BY ts_rank(ru_search, CAST(? AS tsquery), {RANK_NORMALIZATION}) DESC,"
            " id DESC LIMIT ?", [query, query, limit])
        return [(r[0], r[1]) for r in rows]
