"""SQLite FTS5's tokenizers and highlighter in Python, on an in-memory database: the tokens
both backends index and the words both mark.

`Fts5Tokens.tokens(text, "ru")` is what FTS5 indexes for `text` in a `unicode61
remove_diacritics 0` column (the archive's `segments_fts`), `tokens(text, "en")` in a
`unicode61` one (`translations_fts_exact`), `stem(token)` what its `porter` tokenizer makes of a
token (`translations_fts` stems the English lemma keys). PostgreSQL's index (corpus.pg_search)
stores these tokens, so that both backends match the same words.

`marks` decides which words a hit highlights, from what each term of the query alone marks in
the hit's row (asked of FTS5 on a table of the page's rows, one query a term). Both backends use
it, so that their highlights are the same; see its docstring for why not FTS5's highlight() of
the whole query.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from corpus.search import Node

#: FTS5's tokenizers, by the name this module gives them.
TOKENIZERS = {"ru": "unicode61 remove_diacritics 0",  # segments_fts
              "en": "unicode61"}  # translations_fts_exact; translations_fts is porter over it
#: Characters whose tokenization is learnt from FTS5 once and then done by str.translate:
#: Latin, Greek, Cyrillic, punctuation and symbols, CJK punctuation, full-width forms. Any
#: other character sends its text through FTS5 itself (slower, the same result).
_KNOWN_RANGES = ((0x01, 0x2FF), (0x370, 0x52F), (0x2000, 0x2BFF), (0x3000, 0x303F),
                 (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


#: What Fts5Tokens learnt from FTS5 (the same in every thread): "tables", "unknown".
_learnt: dict[str, Any] = {}
_learnt_lock = threading.Lock()


class Fts5Tokens:
    """FTS5's tokenizers and highlighter on an in-memory SQLite database of this process.

    `tokens(text, "ru")` is what FTS5 indexes for `text` in a `unicode61 remove_diacritics 0`
    column; `stem(token)` what the `porter` tokenizer makes of a token; `highlight_rows` runs
    FTS5 queries on a few rows. One per thread (a SQLite connection is not shared between
    threads)."""

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
        # learnt once a process (65 ms), not once a thread: a server's request threads each
        # make their own Fts5Tokens, and the first search in each paid for learning again
        with _learnt_lock:
            if not _learnt:
                tables = {name: self._learn(name) for name in TOKENIZERS}
                # finds a character that was not learnt
                unknown = {name: re.compile(f"[^{_ranges(table)}]")
                           for name, table in tables.items()}
                _learnt.update(tables=tables, unknown=unknown)
        self.tables: dict[str, dict[int, str | None]] = _learnt["tables"]
        self.unknown: dict[str, re.Pattern[str]] = _learnt["unknown"]
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
        if self.unknown[name].search(text):  # characters not learnt: FTS5 itself
            return self.fts5_tokens([text], name)[0]
        return text.translate(self.tables[name]).split()

    def _stem(self, token: str) -> str:
        stems = self.fts5_tokens([token], "porter")[0]
        return stems[0] if len(stems) == 1 else token

    # ------------------------------------------------------------ highlights

    def highlight_rows(self, table: str, rows: Sequence[dict[str, str]], queries: Iterable[str],
                       on: str, off: str) -> dict[str, dict[int, tuple[str, ...]]]:
        """FTS5's highlight() of every column of each of `rows` (of `table`, all with the same
        columns) for each FTS5 query of `queries`: {query: {index of a matching row: its
        columns highlighted}}; a row a query does not match is not there.

        One INSERT of the rows and one SELECT a query, instead of four statements a row and
        query (a page of 20 hits took about 70): the same marks as a table of each row alone
        gives, because the queries `marks` asks (a phrase, a prefix: one term) are decided
        by the row alone; a query with NOT would not be (see `marks`)."""
        found: dict[str, dict[int, tuple[str, ...]]] = {}
        if not rows:
            return found
        columns = list(rows[0])
        self.db.execute("BEGIN")
        try:
            self.db.executemany(f"INSERT INTO {table} (rowid, {', '.join(columns)})"
                                f" VALUES (?{', ?' * len(columns)})",
                                [(i, *(row[c] for c in columns)) for i, row in enumerate(rows)])
            marks = ", ".join(f"highlight({table}, {i}, ?, ?)" for i in range(len(columns)))
            for query in queries:
                if query not in found:
                    found[query] = {r[0]: tuple(r[1:]) for r in self.db.execute(
                        f"SELECT rowid, {marks} FROM {table} WHERE {table} MATCH ?",
                        [*(on, off) * len(columns), query])}
        finally:
            self.db.execute("ROLLBACK")
        return found


def _ranges(chars: Iterable[int]) -> str:
    """A regular expression's character class body for these code points, as ranges."""
    ranges: list[list[int]] = []
    for code in sorted(chars):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "")
                   for low, high in ranges)


_local = threading.local()


def fts5() -> Fts5Tokens:
    """This thread's Fts5Tokens."""
    tokens = getattr(_local, "tokens", None)
    if tokens is None:
        tokens = _local.tokens = Fts5Tokens()
    return tokens


# ---------------------------------------------------------------- highlights

M = TypeVar("M")


def marks(node: Node, term: Callable[[Any], M | None], union: Callable[[M, M], M]) -> M | None:
    """The words a hit highlights, from what each term alone marks in its row (`term`: None
    when the term does not match the row): the terms of every branch of the query that matches
    the row, never those after a NOT. None when the node does not match.

    For a query without NOT this is what FTS5's highlight() of the whole query marks (tested).
    After a NOT, highlight() marks a word of the row or not depending on where FTS5's
    iterators stand in the whole table (`Хама NOT Дети` marks Дети in `Дети из Хомса` found by
    `OR Хомс` when no later sentence holds Хама), which no other index can reproduce: both
    backends use this rule instead.
    """
    from corpus.search import Op

    if not isinstance(node, Op):
        return term(node)
    left = marks(node.left, term, union)
    if node.op == "NOT":
        return left if left is not None and marks(node.right, term, union) is None else None
    right = marks(node.right, term, union)
    if node.op == "AND":
        return union(left, right) if left is not None and right is not None else None
    if left is None or right is None:
        return right if left is None else left
    return union(left, right)


def merge_overlapping(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Character spans, those sharing characters joined (as highlight() joins the instances of
    phrases that overlap; neighbours stay apart)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
