"""Full-text search of the archive, in Russian, English or both, ranked by bm25.

A query is words, "phrases in quotes", AND / OR / NOT (upper case; words side by side mean AND),
parentheses and a trailing `*` for prefixes. It is parsed here and rendered into FTS5 syntax with
every word quoted, so no user input reaches SQLite as syntax: a malformed query is a QueryError.

Russian words match by lemma key (corpus.lemma), so any form finds every form; English words
by the Porter stem of their lemma (`thought` finds think, `advance` finds advancing). With
`exact`, both sides match word forms (case folded, ё = е). A prefix (`освобо*`) matches word
forms on the Russian side, the start of lemma stems on the English side unless `exact`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from corpus.errors import QueryError
from corpus.fts5 import fts5, marks, merge_overlapping
from corpus.lemma import TOKEN, english_key, fold, lemma_key, tokens
from corpus.store import CURRENT_ORDER, Archive

Lang = Literal["ru", "en", "both"]
LANGS = ("ru", "en", "both")
OPERATORS = ("AND", "OR", "NOT")
DEFAULT_LIMIT = 20
#: bm25 is computed for at most this many matches per language, the newest ones: ranking costs
#: about 1.7 µs a match, and a word in every tenth sentence of a million-sentence archive would
#: otherwise take 170 ms. Queries matching fewer sentences are ranked in full. 2,000 rather
#: than 10,000: a common word's page took 25 ms of a core at a million pairs, and `ruen serve`
#: with 8 reviewers on 2 cores queued them past 150 ms (9 ms with 2,000).
RANK_WINDOW = 2_000
SIMILAR_ROWS = 20_000
_MARK_ON, _MARK_OFF = "\x02", "\x03"
Span = tuple[int, int]


# ---------------------------------------------------------------- query language


@dataclass(frozen=True)
class Term:
    """A word or a phrase (several words that must follow each other); `prefix` marks the last
    word as a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Op:
    op: str  # AND | OR | NOT  (NOT is binary: left NOT right)
    left: Node
    right: Node


Node = Term | Op


def _lex(query: str) -> Iterator[tuple[str, Any]]:
    """("(", None) | (")", None) | ("op", "AND") | ("term", Term)."""
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            yield c, None
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError(f"query {query!r}: a quote is not closed; add the closing \".")
            prefix = query.startswith("*", end + 1)
            words = tuple(m.group() for m in TOKEN.finditer(query[i + 1:end]))
            if words:
                yield "term", Term(words, prefix)
            i = end + 1 + prefix
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"':
                j += 1
            bare = query[i:j]
            i = j
            if bare in OPERATORS:
                yield "op", bare
                continue
            words = tuple(m.group() for m in TOKEN.finditer(bare))
            if not words:
                if "*" in bare:
                    raise QueryError(f"query {query!r}: `*` marks a prefix and must follow the "
                                     "start of a word, e.g. `освобо*`.")
                continue  # punctuation only: nothing to search for
            yield "term", Term(words, bare.endswith("*"))


class _Parser:
    """or := and (OR and)* ; and := not ([AND] not)* ; not := primary (NOT primary)* ;
    primary := term | ( or ). The precedence is FTS5's: NOT, then AND, then OR."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.items = list(_lex(query))
        self.pos = 0

    def error(self, message: str) -> QueryError:
        return QueryError(f"query {self.query!r}: {message}")

    def peek(self) -> tuple[str, Any] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> tuple[str, Any]:
        item = self.items[self.pos]
        self.pos += 1
        return item

    def parse(self) -> Node:
        if not self.items:
            raise self.error("nothing to search for; give a word or a \"phrase\".")
        node = self.or_()
        if self.peek() is not None:
            kind, _ = self.peek()  # type: ignore[misc]
            raise self.error("a `)` has no matching `(`." if kind == ")" else
                             "cannot read the query here; check its operators and brackets.")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek() == ("op", "OR"):
            self.take()
            node = Op("OR", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while (item := self.peek()) is not None and (item == ("op", "AND")
                                                     or item[0] in ("term", "(")):
            if item[0] == "op":
                self.take()
            node = Op("AND", node, self.not_())
        return node

    def not_(self) -> Node:
        node = self.primary()
        while self.peek() == ("op", "NOT"):
            self.take()
            node = Op("NOT", node, self.primary())
        return node

    def primary(self) -> Node:
        item = self.peek()
        if item is None:
            raise self.error("the query ends where a word or phrase is needed.")
        kind, value = self.take()
        if kind == "term":
            return value
        if kind == "(":
            node = self.or_()
            if self.peek() != (")", None):
                raise self.error("a `(` is not closed; add the `)`.")
            self.take()
            return node
        if kind == "op":
            raise self.error(f"`{value}` needs a word or phrase on both sides, "
                             "e.g. `Хомс AND Хама`, `Хомс NOT Хама`.")
        raise self.error("a `)` has no matching `(`.")


def parse_query(query: str) -> Node:
    """The query as a tree of terms and operators; QueryError when it cannot be read."""
    return _Parser(query).parse()


# ---------------------------------------------------------------- rendering to FTS5


def _phrase(words: Sequence[str], prefix: bool) -> str:
    # words are runs of letters and digits (corpus.lemma.TOKEN): nothing in them needs quoting
    return '"' + " ".join(words) + '"' + (" *" if prefix else "")


def _render_ru(node: Node, exact: bool) -> str:
    if isinstance(node, Op):
        return f"({_render_ru(node.left, exact)} {node.op} {_render_ru(node.right, exact)})"
    if exact or node.prefix:  # prefixes are of word forms: a lemma need not share them
        return "ru_norm : " + _phrase([fold(w) for w in node.words], node.prefix)
    return "ru_lemmas : " + _phrase([lemma_key(w) for w in node.words], False)


def _render_en(node: Node, exact: bool) -> str:
    if isinstance(node, Op):
        return f"({_render_en(node.left, exact)} {node.op} {_render_en(node.right, exact)})"
    words = [w.casefold() for w in node.words]
    if not exact:  # the keys the index holds; a prefix stays as typed (a lemma of half a word
        # is no word): it matches the start of the stemmed keys
        words = [english_key(w) for w in words[:-1]] + [
            words[-1] if node.prefix else english_key(words[-1])]
    return _phrase(words, node.prefix)


def fts_queries(query: str, *, exact: bool = False) -> tuple[str, str]:
    """The FTS5 queries (Russian, English) for a user query."""
    node = parse_query(query)
    return _render_ru(node, exact), _render_en(node, exact)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Hit:
    """A sentence that matched, with the translation shown beside it and where the matches are.

    `score` is minus the bm25 rank (higher is better; the sum of both sides when both match).
    """

    doc: int
    index: int
    title: str
    ru: str
    en: str
    kind: str  # of the translation shown: mt | post-edit | reference | "" (none)
    score: float
    ru_spans: tuple[Span, ...] = ()
    en_spans: tuple[Span, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"doc": self.doc, "index": self.index, "ru": self.ru, "en": self.en,
                "score": round(self.score, 4), "title": self.title, "kind": self.kind,
                "ru_highlights": [list(s) for s in self.ru_spans],
                "en_highlights": [list(s) for s in self.en_spans]}


@dataclass
class _Match:
    segment: int
    rank_ru: float = 0.0
    rank_en: float = 0.0
    translation: int | None = None  # the English translation that matched
    on_ru: bool = False  # the Russian side matched


def _marked_tokens(highlighted: str) -> set[int]:
    """Indexes of the tokens between highlight marks."""
    marked, inside, index = set(), False, 0
    for m in re.finditer(f"{_MARK_ON}|{_MARK_OFF}|{TOKEN.pattern}", highlighted):
        if m.group() == _MARK_ON:
            inside = True
        elif m.group() == _MARK_OFF:
            inside = False
        else:
            if inside:
                marked.add(index)
            index += 1
    return marked


def _token_spans(text: str, marked: set[int]) -> tuple[Span, ...]:
    """Spans of the marked tokens of `text`, neighbours merged (a phrase is one span)."""
    spans: list[Span] = []
    previous = -2
    for i, m in enumerate(tokens(text)):
        if i in marked:
            if previous == i - 1 and spans:
                spans[-1] = (spans[-1][0], m.end())
            else:
                spans.append(m.span())
            previous = i
    return tuple(spans)


def _marked_spans(highlighted: str) -> tuple[Span, ...]:
    """Spans (in the text without marks) of the stretches between highlight marks."""
    spans, plain, start = [], 0, 0
    for piece in re.split(f"({_MARK_ON}|{_MARK_OFF})", highlighted):
        if piece == _MARK_ON:
            start = plain
        elif piece == _MARK_OFF:
            spans.append((start, plain))
        else:
            plain += len(piece)
    return tuple(spans)


def _terms(node: Node) -> list[Term]:
    """The terms of a query, left to right."""
    if isinstance(node, Op):
        return _terms(node.left) + _terms(node.right)
    return [node]


def ru_highlights_of(node: Node, exact: bool, rows: Sequence[tuple[str, str, str]]
                     ) -> list[tuple[Span, ...]]:
    """`ru_highlights` of each (ru, ru_norm, ru_lemmas) of `rows`: FTS5 is asked once a term
    for all of them (a page of hits), not once a term and hit."""
    queries = {term: _render_ru(term, exact) for term in _terms(node)}
    found = fts5().highlight_rows("ru", [{"ru_norm": norm, "ru_lemmas": lemmas}
                                         for _, norm, lemmas in rows],
                                  queries.values(), _MARK_ON, _MARK_OFF)
    spans = []
    for i, (ru, _, _) in enumerate(rows):
        by_term: dict[Term, set[int] | None] = {}
        for term, query in queries.items():
            columns = found[query].get(i)
            by_term[term] = columns and _marked_tokens(columns[0]) | _marked_tokens(columns[1])
        spans.append(_token_spans(ru, marks(node, by_term.__getitem__, set.union) or set()))
    return spans


def ru_highlights(node: Node, exact: bool, ru: str, ru_norm: str, ru_lemmas: str
                  ) -> tuple[Span, ...]:
    """Spans of the Russian sentence `ru` that a hit highlights (corpus.fts5.marks): the
    tokens FTS5 marks for each matching term in the sentence's forms or lemma keys."""
    return ru_highlights_of(node, exact, [(ru, ru_norm, ru_lemmas)])[0]


def en_highlights_of(node: Node, exact: bool, rows: Sequence[tuple[str, str]]
                     ) -> list[tuple[Span, ...]]:
    """`en_highlights` of each (en, en_lemmas) of `rows`, FTS5 asked once a term for all."""
    queries = {term: _render_en(term, exact) for term in _terms(node)}
    if exact:
        table, values = "en_exact", [{"en": en} for en, _ in rows]
    else:
        table, values = "en_stems", [{"en_lemmas": lemmas} for _, lemmas in rows]
    found = fts5().highlight_rows(table, values, queries.values(), _MARK_ON, _MARK_OFF)
    spans: list[tuple[Span, ...]] = []
    for i, (en, _) in enumerate(rows):
        if exact:  # the words themselves
            stretches: dict[Term, list[Span] | None] = {}
            for term, query in queries.items():
                columns = found[query].get(i)
                stretches[term] = columns and list(_marked_spans(columns[0]))
            spans.append(merge_overlapping(
                marks(node, stretches.__getitem__, list.__add__) or []))
        else:  # by token: the lemma keys hold one key per token of the English
            keys: dict[Term, set[int] | None] = {}
            for term, query in queries.items():
                columns = found[query].get(i)
                keys[term] = columns and _marked_tokens(columns[0])
            spans.append(_token_spans(en, marks(node, keys.__getitem__, set.union) or set()))
    return spans


def en_highlights(node: Node, exact: bool, en: str, en_lemmas: str) -> tuple[Span, ...]:
    """Spans of the English `en` that a hit highlights: the words themselves when `exact`,
    else by token (its lemma keys hold one key per token of the English)."""
    return en_highlights_of(node, exact, [(en, en_lemmas)])[0]


def best_per_sentence(ranked: Callable[[int], Sequence[tuple[int, int, float]]], wanted: int
                      ) -> list[tuple[int, float, int]]:
    """(sentence, rank, translation) of the best-ranked matching translation of each of the
    first `wanted` sentences, from `ranked(fetch)`: the best `fetch` matching translations
    (translation, sentence, rank), best first. A sentence may have several, so more are
    fetched until `wanted` sentences are found or no more match."""
    fetch = wanted * 2
    while True:
        rows = ranked(fetch)
        found: dict[int, tuple[int, float, int]] = {}
        for translation, segment, rank in rows:
            found.setdefault(segment, (segment, rank, translation))
        if len(found) >= wanted or len(rows) < fetch:
            return list(found.values())[:wanted]
        fetch *= 4


Documents = tuple[list[str], list[Any]]  # SQL conditions on `s.doc_id`, their parameters


class Fts5Index:
    """What Searcher asks of the index, on SQLite: FTS5 tables `segments_fts` (Russian forms
    and lemma keys), `translations_fts` (porter over English lemma keys) and
    `translations_fts_exact` (English forms); ranks are bm25 (lower is better). The PostgreSQL
    counterpart is corpus.pg_search.PgIndex."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def _filters(self, documents: Documents, systems: Sequence[int], translations: bool
                 ) -> tuple[str, list[Any]]:
        """SQL conditions (on `s` segments, `t` translations, `f` the FTS table) and their
        parameters. Rowid bounds let FTS5 skip straight to the filtered documents."""
        sql, params = "", []
        where, where_params = documents
        if where:
            sql_bounds = (
                "SELECT min(t.id), max(t.id) FROM segments s JOIN translations t"
                " ON t.segment_id = s.id" if translations else
                "SELECT min(s.id), max(s.id) FROM segments s")
            low, high = self.db.execute(f"{sql_bounds} WHERE {' AND '.join(where)}",
                                        where_params).fetchone()
            sql += " AND f.rowid BETWEEN ? AND ? AND " + " AND ".join(where)
            params += [low if low is not None else 0, high if high is not None else -1,
                       *where_params]
        if systems:
            marks = ",".join("?" * len(systems))
            if translations:
                sql += f" AND t.system_id IN ({marks})"
            else:
                sql += (" AND EXISTS (SELECT 1 FROM translations t WHERE t.segment_id = s.id"
                        f" AND t.system_id IN ({marks}))")
            params += list(systems)
        return sql, params

    def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # the query is ours: a guard, not a path
            if "fts5" in str(exc) or "MATCH" in str(exc):
                raise QueryError(f"cannot run this query ({exc}); simplify it.") from None
            raise

    def ru(self, node: Node, exact: bool, documents: Documents, systems: Sequence[int],
           wanted: int, window: int) -> list[tuple[int, float]]:
        fts = _render_ru(node, exact)
        where, params = self._filters(documents, systems, translations=False)
        # without filters the window is read from the index alone (no join per match)
        join = " JOIN segments s ON s.id = f.rowid" if where else ""
        rows = self._run(
            "SELECT id, r FROM (SELECT f.rowid AS id, f.rank AS r FROM segments_fts f"
            f"{join} WHERE segments_fts MATCH ?{where} ORDER BY f.rowid DESC LIMIT ?)"
            " ORDER BY r, id DESC LIMIT ?",
            [fts, *params, window, wanted])
        return [(r[0], r[1]) for r in rows]

    def en(self, node: Node, exact: bool, documents: Documents, systems: Sequence[int],
           wanted: int, window: int) -> list[tuple[int, float, int]]:
        """Best-ranked matching translation per sentence (a sentence may have several);
        equal scores newest translation first."""
        fts = _render_en(node, exact)
        table = "translations_fts_exact" if exact else "translations_fts"
        where, params = self._filters(documents, systems, translations=True)
        join = (" JOIN translations t ON t.id = f.rowid JOIN segments s ON s.id = t.segment_id"
                if where else "")

        def ranked(fetch: int) -> list[tuple[int, int, float]]:
            found = self._run(
                "SELECT tid, r FROM (SELECT f.rowid AS tid, f.rank AS r"
                f" FROM {table} f{join} WHERE {table} MATCH ?{where}"
                " ORDER BY f.rowid DESC LIMIT ?) ORDER BY r, tid DESC LIMIT ?",
                [fts, *params, window, fetch])
            if not found:  # no statement for the sentences of no translations
                return []
            segments = dict(self.db.execute(
                f"SELECT id, segment_id FROM translations WHERE id IN"
                f" ({','.join('?' * len(found))})", [r[0] for r in found]).fetchall())
            return [(translation, segments[translation], rank) for translation, rank in found]

        return best_per_sentence(ranked, wanted)

    def en_texts(self, translations: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """(English, kind, English lemma keys as indexed) of each translation."""
        if not translations:
            return {}
        return {r[0]: (r[1], r[2], r[3]) for r in self.db.execute(
            "SELECT t.id, t.en, t.kind, l.en_lemmas FROM translations t"
            " JOIN translations_en_lemmas l ON l.id = t.id"
            f" WHERE t.id IN ({','.join('?' * len(translations))})", list(translations))}

    def key_counts(self, keys: Sequence[str], cap: int | None) -> list[tuple[int, str]]:
        """(sentences holding the lemma key, key)."""
        return [(self.db.execute(
            "SELECT count(*) FROM segments_fts WHERE segments_fts MATCH ?",
            (f'ru_lemmas : "{k}"',)).fetchone()[0], k) for k in keys]

    def with_keys(self, keys: Sequence[str], limit: int) -> list[tuple[int, str]]:
        """(id, Russian) of the sentences holding any of the lemma keys, best ranked first."""
        fts = " OR ".join(f'ru_lemmas : "{k}"' for k in keys)
        rows = self._run(
            "SELECT s.id, s.ru FROM segments_fts f JOIN segments s ON s.id = f.rowid"
            " WHERE segments_fts MATCH ? ORDER BY f.rank LIMIT ?", [fts, limit])
        return [(r[0], r[1]) for r in rows]


class Searcher:
    """Searches one archive, SQLite or PostgreSQL (the index: Fts5Index or
    corpus.pg_search.PgIndex). `search()` is the short way to use it."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.db = archive.db
        if getattr(archive, "backend", "sqlite") == "postgresql":
            from corpus.pg_search import PgIndex

            self.index: Fts5Index | PgIndex = PgIndex(self.db)
        else:
            self.index = Fts5Index(self.db)

    # ------------------------------------------------------------ filters

    def system_ids(self, text: str) -> list[int]:
        """Systems whose id is `text` or whose model name contains it."""
        systems = self.db.execute("SELECT id, model FROM systems ORDER BY id").fetchall()
        found = [r[0] for r in systems if str(r[0]) == text or text in r[1]]
        if not found:
            known = ", ".join(f"{r[0]}: {r[1]}" for r in systems) or "none yet"
            raise QueryError(f"--system {text}: no system matches; the archive has {known}.")
        return found

    @staticmethod
    def since_text(since: str | date | None, option: str = "--since") -> str | None:
        if since is None or isinstance(since, date):
            return since.isoformat() if since else None
        try:
            return datetime.fromisoformat(since).isoformat() if "T" in since else \
                date.fromisoformat(since).isoformat()
        except ValueError:
            raise QueryError(f"{option} {since}: give a date like 2026-11-01.") from None

    def document_conditions(self, docs: Sequence[int] = (), since: str | date | None = None,
                            until: str | date | None = None, site: str | None = None
                            ) -> Documents:
        """SQL conditions on `s.doc_id` and their parameters: these documents; dated (by
        publication, else by when they were added) on or after `since`, on or before `until`
        (a whole day when it is a date); from `site` (its name, or the host of its URL or a
        subdomain of it, any case). The same SQL on both backends."""
        where: list[str] = []
        params: list[Any] = []
        if docs:
            where.append(f"s.doc_id IN ({','.join('?' * len(docs))})")
            params += list(docs)
        dated = []
        if (since_iso := self.since_text(since)) is not None:
            dated.append("coalesce(published, created) >= ?")
            params.append(since_iso)
        if (until_iso := self.since_text(until, "--until")) is not None:
            if "T" in until_iso:
                dated.append("coalesce(published, created) <= ?")
                params.append(until_iso)
            else:  # the whole day: before the next one
                dated.append("coalesce(published, created) < ?")
                params.append((date.fromisoformat(until_iso) + timedelta(days=1)).isoformat())
        if site:
            name = site.strip().lower().removeprefix("www.")
            # site names are matched case folded by Python (SQLite folds only ASCII case, and
            # PostgreSQL's lower() follows the server's locale): Вестник Востока = ВЕСТНИК…
            wanted = site.strip().casefold()
            names = [r[0] for r in self.db.execute(
                "SELECT DISTINCT site FROM documents WHERE site IS NOT NULL")
                if r[0].casefold() == wanted]
            by_name = f"site IN ({','.join('?' * len(names))}) OR " if names else ""
            dated.append(f"({by_name}host = ? OR host LIKE ? ESCAPE '\\')")
            params += [*names, name, "%." + name.replace("%", "\\%").replace("_", "\\_")]
        if dated:
            where.append(f"s.doc_id IN (SELECT id FROM documents WHERE {' AND '.join(dated)})")
        return where, params

    # ------------------------------------------------------------ search

    def search(self, query: str, *, lang: Lang = "both", exact: bool = False,
               docs: Sequence[int] = (), since: str | date | None = None,
               until: str | date | None = None, site: str | None = None,
               system: str | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0
               ) -> list[Hit]:
        if lang not in LANGS:
            raise QueryError(f"--lang {lang}: choose one of {', '.join(LANGS)}.")
        if limit < 1 or offset < 0:
            raise QueryError("--limit must be at least 1 and --offset at least 0.")
        node = parse_query(query)
        systems = self.system_ids(system) if system else []
        documents = self.document_conditions(docs, since, until, site)
        wanted = offset + limit
        matches: dict[int, _Match] = {}
        if lang in ("ru", "both"):
            for segment, rank in self.index.ru(node, exact, documents, systems, wanted,
                                               RANK_WINDOW):
                matches[segment] = _Match(segment, rank_ru=rank, on_ru=True)
        if lang in ("en", "both"):
            for segment, rank, translation in self.index.en(node, exact, documents, systems,
                                                            wanted, RANK_WINDOW):
                match = matches.setdefault(segment, _Match(segment))
                match.rank_en, match.translation = rank, translation
        # equal scores: newest first, as the SQL above orders them, so pages do not overlap
        ranked = sorted(matches.values(), key=lambda m: (m.rank_ru + m.rank_en, -m.segment,
                                                         -(m.translation or 0)))
        return self._hits(ranked[offset:offset + limit], node, exact, systems)

    # ------------------------------------------------------------ the hits

    def _hits(self, matches: Sequence[_Match], node: Node, exact: bool,
              systems: Sequence[int]) -> list[Hit]:
        """The hits of a page, read a few statements for the whole page (a statement costs a
        round trip to a PostgreSQL server)."""
        if not matches:
            return []
        segments = [m.segment for m in matches]
        rows = {r["id"]: r for r in self.db.execute(
            "SELECT s.id, s.doc_id, s.idx, s.ru, s.ru_norm, s.ru_lemmas, d.title FROM segments s"
            " JOIN documents d ON d.id = s.doc_id"
            f" WHERE s.id IN ({','.join('?' * len(segments))})", segments)}
        en_texts = self.index.en_texts(
            [m.translation for m in matches if m.translation is not None])
        current = self.current_translations(
            [m.segment for m in matches if m.translation is None], systems)
        # highlighted on what was indexed: the Russian forms and lemma keys, the English lemma
        # keys (or forms when exact); each side's hits at once
        on_ru = [m for m in matches if m.on_ru]
        ru_spans = dict(zip([m.segment for m in on_ru], ru_highlights_of(
            node, exact, [(rows[m.segment]["ru"], rows[m.segment]["ru_norm"],
                           rows[m.segment]["ru_lemmas"]) for m in on_ru]), strict=True))
        on_en = [m.translation for m in matches if m.translation is not None]
        en_spans = dict(zip(on_en, en_highlights_of(
            node, exact, [(en_texts[t][0], en_texts[t][2]) for t in on_en]), strict=True))
        hits = []
        for match in matches:
            row = rows[match.segment]
            if match.translation is not None:
                en, kind, _ = en_texts[match.translation]
            else:
                en, kind = current.get(match.segment, ("", ""))
            hits.append(Hit(doc=row["doc_id"], index=row["idx"], title=row["title"],
                            ru=row["ru"], en=en, kind=kind,
                            score=-(match.rank_ru + match.rank_en),
                            ru_spans=ru_spans.get(match.segment, ()),
                            en_spans=en_spans.get(match.translation, ())))
        return hits

    def current_translations(self, segments: Sequence[int], systems: Sequence[int] = ()
                             ) -> dict[int, tuple[str, str]]:
        """`current_translation` of each of `segments` (those with a translation), at once."""
        if not segments:
            return {}
        where, params = "", list(segments)
        if systems:
            where = f" AND t.system_id IN ({','.join('?' * len(systems))})"
            params += list(systems)
        current: dict[int, tuple[str, str]] = {}
        for row in self.db.execute(
                "SELECT t.segment_id, t.en, t.kind FROM translations t"
                f" WHERE t.segment_id IN ({','.join('?' * len(segments))}){where}"
                f" ORDER BY t.segment_id, {CURRENT_ORDER}, t.id DESC", params):
            current.setdefault(row[0], (row[1], row[2]))
        return current

    def current_translation(self, segment: int, systems: Sequence[int] = ()) -> tuple[str, str]:
        """(English, kind): the newest post-edit, else the newest machine translation, else the
        newest reference; only those of `systems` when given."""
        return self.current_translations([segment], systems).get(segment, ("", ""))

    # ------------------------------------------------------------ for translation memory

    def similar_segments(self, sentence: str, limit: int = 100) -> list[tuple[int, str]]:
        """(segment id, Russian) of stored sentences sharing the most words (by lemma) with
        `sentence`, best first: the candidates a fuzzy translation-memory lookup compares.

        The rarest words choose the candidates (as many as together occur in at most
        SIMILAR_ROWS sentences): a sentence similar to this one shares its rare words, and
        ranking every sentence that has a `в` or `на` would take seconds on a large archive.
        """
        keys = sorted({lemma_key(m.group()) for m in tokens(sentence)})
        counted = sorted(self.index.key_counts(keys, SIMILAR_ROWS + 1))
        if counted and counted[0][0] > SIMILAR_ROWS:  # only common words: the least common
            counted = sorted(self.index.key_counts(keys, None))
        chosen, rows_total = [], 0
        for count, key in counted:
            if count == 0:
                continue
            if chosen and rows_total + count > SIMILAR_ROWS:
                break
            chosen.append(key)
            rows_total += count
        if not chosen:
            return []
        return self.index.with_keys(chosen, limit)


def search(archive: Archive, query: str, **options: Any) -> list[Hit]:
    """Search `archive`; see `Searcher.search` for the options."""
    return Searcher(archive).search(query, **options)


def kwic_window(text: str, spans: Sequence[Span], width: int = 50
                ) -> tuple[str, tuple[Span, ...]]:
    """A keyword-in-context excerpt: up to `width` characters either side of the first match
    (`…` where text is cut), with the matches inside it moved to the excerpt's offsets."""
    text = " ".join(text.split("\n"))
    if not spans:
        return (text if len(text) <= 2 * width else text[:2 * width] + "…"), ()
    start = max(0, spans[0][0] - width)
    end = min(len(text), spans[0][1] + width)
    prefix = "…" if start > 0 else ""
    excerpt = prefix + text[start:end] + ("…" if end < len(text) else "")
    shift = len(prefix) - start
    inside = tuple((max(s, start) + shift, min(e, end) + shift)
                   for s, e in spans if s < end and e > start)
    return excerpt, inside
