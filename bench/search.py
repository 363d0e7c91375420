"""Search benchmark: the same N generated sentence pairs stored in an SQLite archive and in a
PostgreSQL one, then the same queries timed on both, side by side.

    python -m bench.search                         # 1,000,000 pairs on both (about an hour)
    python -m bench.search --pairs 20000           # a quicker run
    python -m bench.search --backend sqlite        # one backend only
    python -m bench.search --db /tmp/big.db --pg 'postgresql://host/db?options=-csearch_path%3Dbench'
                                                   # keep both archives; a later run reuses them
    python -m bench.search --pairs 200000 --writers 2   # stored by 2 processes at once

The text is generated, not translated: Russian and English sentences drawn independently from
word lists written here, in inflected forms (so lemma queries have forms to find), with a long
tail of made-up words declined like Russian nouns so that word frequencies look like a real
archive's (a few very common words, most words rare). Reports the index build rate (pairs
stored and indexed per second, through `Archive.save_document` as `ruen translate` stores
them), the archive's size (its search index apart) and p50/p95 latency of
`corpus.search.search` (20 hits, highlights and translations included) for single words
(`--exact`), two-word phrases, lemma queries and the commonest words. On PostgreSQL the
archive lives in a schema made for the run (dropped after it) on `--server`, and is
VACUUM ANALYZEd after the load (as autovacuum would soon do; its seconds are reported apart).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.console import progress
from corpus.db import display_name
from corpus.errors import ArchiveError
from corpus.search import search
from corpus.store import Archive
from corpus.types import Document, SentencePair, System

SENTENCES_PER_DOCUMENT = 50
QUERIES = 200
TARGET_P95_MS = 50.0
BACKENDS = ("sqlite", "postgresql")
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SYSTEM = System("bench/synthetic", "0", "none", {"beam": 0})

# ---------------------------------------------------------------- word lists (forms per lexeme)


def _words(text: str) -> list[str]:
    return text.split()


RU_LEXEMES = """
Хомс Хомса Хомсе Хомсом Хомсу
Хама Хамы Хаме Хамой Хаму
Дамаск Дамаска Дамаске Дамаском
Алеппо
Идлиб Идлиба Идлибе Идлибом
Латакия Латакии Латакией Латакию
Пальмира Пальмиры Пальмире Пальмирой
Асад Асада Асаду Асадом
сила силы сил силами силам
режим режима режиму режимом режиме
командование командования командованием командованию
дивизия дивизии дивизией дивизию дивизий
повстанец повстанцы повстанцев повстанцами повстанцам
город города городе городом городов
деревня деревни деревню деревней деревень
провинция провинции провинцию провинцией
наступление наступления наступлением наступлении
отступление отступления отступлением
бой боя бои боев боях
армия армии армию армией
солдат солдата солдаты солдатами
министр министра министру министром
представитель представителя представители представителем
оборона обороны обороне обороной
безопасность безопасности
коалиция коалиции коалицию коалицией
контроль контроля контролем
район района районе районов
дорога дороги дороге дорогу
освободить освободили освободил освобождён освобождена
наступать наступают наступали наступает
отступать отступают отступали отступает
подтвердить подтвердил подтвердили подтверждает
заявить заявил заявила заявили
двигаться движутся двигались
направить направили направлены
новый новая новые новых новой
полный полная полного полным
тактический тактическое тактических
революционный революционные революционных
гражданский гражданское гражданских
четвёртый четвёртая четвёртой четвёртую
южный южного южном южной
северный северного северном северной
""".strip().splitlines()
RU_FUNCTION = _words("в на под к от из после и но что это уже ещё около более за по с")

EN_LEXEMES = """
Homs
Hama
Damascus
Aleppo
Idlib
Latakia
Palmyra
Assad
force forces
regime regimes
command commands commanded commanding
division divisions
rebel rebels
city cities
village villages
province provinces
advance advances advanced advancing
retreat retreats retreated retreating
battle battles
army armies
soldier soldiers
minister ministers
spokesman spokesmen
defence defences
security
coalition coalitions
control controls controlled controlling
district districts
road roads
liberate liberates liberated liberating
confirm confirms confirmed confirming
announce announces announced announcing
move moves moved moving
send sends sent sending
new
full
tactical
revolutionary
civil
fourth
southern
northern
""".strip().splitlines()
EN_FUNCTION = _words("the of in on to from after and but that this already near more for by with")

# made-up words for the long tail, declined as Russian nouns / inflected as English words
RU_SYLLABLES = _words("ба ва да за ка ла ма на ра са та ха ша бо го ко мо ро ту ну ли ми ки ре не")
RU_ENDINGS = ("", "а", "у", "ом", "е")
EN_SYLLABLES = _words("ba da ka la ma na ra sa ta ko mo ro tu nu li mi ki re ne vo")
EN_ENDINGS = ("", "s", "ed", "ing")
TAIL_LEXEMES = 20_000
ZIPF_SHIFT = 50
FUNCTION_SHARE = 0.3  # of the words in a sentence


@dataclass(frozen=True)
class Vocabulary:
    """Lexemes (each a list of forms) drawn with Zipf-Mandelbrot weights 1/(k + ZIPF_SHIFT):
    function words take the head of a real distribution (they are drawn separately), so the
    commonest content word is in about 3% of sentences, as `силы` might be in war reporting."""

    lexemes: list[list[str]]
    function_words: list[str]

    def weights(self) -> list[float]:
        return [1.0 / (rank + 1 + ZIPF_SHIFT) for rank in range(len(self.lexemes))]


def _tail(rng: random.Random, syllables: list[str], final: str, endings: tuple[str, ...],
          count: int) -> list[list[str]]:
    seen: set[str] = set()
    lexemes = []
    while len(lexemes) < count:
        stem = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) + final
        if stem not in seen:
            seen.add(stem)
            lexemes.append([stem + ending for ending in endings])
    return lexemes


def vocabularies(seed: int = 0) -> tuple[Vocabulary, Vocabulary]:
    rng = random.Random(seed)
    ru = [line.split() for line in RU_LEXEMES]
    en = [line.split() for line in EN_LEXEMES]
    return (Vocabulary(ru + _tail(rng, RU_SYLLABLES, "т", RU_ENDINGS, TAIL_LEXEMES), RU_FUNCTION),
            Vocabulary(en + _tail(rng, EN_SYLLABLES, "t", EN_ENDINGS, TAIL_LEXEMES), EN_FUNCTION))


class SentenceMaker:
    def __init__(self, vocabulary: Vocabulary, rng: random.Random) -> None:
        self.vocabulary = vocabulary
        self.rng = rng
        self.cumulative = list(_accumulate(vocabulary.weights()))

    def __call__(self) -> str:
        words = []
        for _ in range(self.rng.randint(6, 18)):
            if self.rng.random() < FUNCTION_SHARE:
                words.append(self.rng.choice(self.vocabulary.function_words))
            else:
                lexeme = self.rng.choices(self.vocabulary.lexemes,
                                          cum_weights=self.cumulative)[0]
                words.append(self.rng.choice(lexeme))
        sentence = " ".join(words)
        return sentence[0].upper() + sentence[1:] + "."


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


# ---------------------------------------------------------------- build


def documents(pairs: int, seed: int) -> Iterator[tuple[Document, list[SentencePair]]]:
    """`pairs` generated pairs in documents of SENTENCES_PER_DOCUMENT: the same seed makes the
    same documents, in the same order."""
    ru_vocabulary, en_vocabulary = vocabularies(seed)
    rng = random.Random(seed + 1)
    make_ru, make_en = SentenceMaker(ru_vocabulary, rng), SentenceMaker(en_vocabulary, rng)
    for number, start in enumerate(range(0, pairs, SENTENCES_PER_DOCUMENT), start=1):
        rows = [(make_ru(), make_en())
                for _ in range(min(SENTENCES_PER_DOCUMENT, pairs - start))]
        text, sentence_pairs = "", []
        for index, (ru, en) in enumerate(rows):
            sentence_pairs.append(SentencePair(doc=None, index=index, paragraph=index // 5,
                                               ru=ru, en=en, start=len(text),
                                               end=len(text) + len(ru)))
            text += ru + " "
        yield Document(f"bench/{number}.txt", f"Synthetic {number}", text), sentence_pairs


def build(target: Path | str, pairs: int, seed: int, writers: int = 1) -> float:
    """Store `pairs` generated pairs (`documents`); returns seconds spent storing and
    indexing (generating the text is not counted). With `writers`, that many processes store
    every `writers`-th document each, at once (PostgreSQL takes them together, SQLite one
    transaction at a time); the seconds are then from their start to the last one's end."""
    if writers > 1:
        return _build_in_processes(target, list(documents(pairs, seed)), writers)
    spent = 0.0
    with Archive(target) as archive, progress("pair") as bar:
        task = bar.add_task(f"Building ({archive.backend})", total=pairs)
        for document, sentence_pairs in documents(pairs, seed):
            began = time.perf_counter()
            archive.save_document(document, sentence_pairs, SYSTEM)
            spent += time.perf_counter() - began
            bar.advance(task, len(sentence_pairs))
    return spent


def _store_share(target: Path | str, share: list[tuple[Document, list[SentencePair]]]) -> None:
    with Archive(target) as archive:
        for document, sentence_pairs in share:
            archive.save_document(document, sentence_pairs, SYSTEM)


def _build_in_processes(target: Path | str, docs: list[tuple[Document, list[SentencePair]]],
                        writers: int) -> float:
    import multiprocessing

    Archive(target).close()  # the schema, made once before the writers race for it
    context = multiprocessing.get_context("fork")  # the documents are inherited, not sent
    processes = [context.Process(target=_store_share, args=(target, docs[k::writers]))
                 for k in range(writers)]
    began = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    if any(process.exitcode for process in processes):
        raise SystemExit(f"error: a writer failed storing into {target}")
    return time.perf_counter() - began


# ---------------------------------------------------------------- queries


def query_sets(target: Path | str, count: int, seed: int) -> dict[str, tuple[list[str], dict]]:
    """Queries drawn from the archive itself, so that every one has something to find."""
    rng = random.Random(seed + 2)
    ru_vocabulary, en_vocabulary = vocabularies(seed)
    archive = Archive(target, readonly=True)
    db = archive.db
    top = db.execute("SELECT max(id) FROM segments").fetchone()[0]

    def sentence() -> tuple[str, str]:
        row = None
        while row is None:
            row = db.execute(
                "SELECT s.ru, t.en FROM segments s JOIN translations t ON t.segment_id = s.id"
                " WHERE s.id = ?", (rng.randint(1, top),)).fetchone()
        return row[0], row[1]

    def phrase() -> str:
        ru, en = sentence()
        words = (ru if rng.random() < 0.5 else en).rstrip(".").split()
        i = rng.randrange(len(words) - 1)
        return f'"{words[i]} {words[i + 1]}"'

    def word() -> str:
        ru, en = sentence()
        words = [w for w in (ru if rng.random() < 0.5 else en).rstrip(".").split()
                 if w.lower() not in ru_vocabulary.function_words + en_vocabulary.function_words]
        return rng.choice(words or ["Хомс"])

    def lemma() -> str:  # any form of a lexeme: finds all of its forms
        lexemes = ru_vocabulary.lexemes
        return rng.choice(rng.choice(lexemes[:len(RU_LEXEMES)] if rng.random() < 0.2
                                     else lexemes))

    def common() -> str:  # one of the 20 most frequent words: the slowest kind of query
        return rng.choice(rng.choice(ru_vocabulary.lexemes[:20]))

    sets: dict[str, tuple[Callable[[], str], dict]] = {
        "word": (word, {"exact": True}), "phrase": (phrase, {}), "lemma": (lemma, {}),
        "common_word": (common, {}),
    }
    try:
        return {name: ([make() for _ in range(count)], options)
                for name, (make, options) in sets.items()}
    finally:
        archive.close()


def time_queries(target: Path | str, queries: list[str], options: dict) -> dict[str, float]:
    latencies, hits = [], []
    with Archive(target, readonly=True) as archive:
        for query in queries[:10]:  # warm the page cache and the lemmatiser
            search(archive, query, **options)
        for query in queries:
            began = time.perf_counter()
            found = search(archive, query, **options)
            latencies.append((time.perf_counter() - began) * 1000)
            hits.append(len(found))
    latencies.sort()
    return {"queries": len(queries),
            "p50_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
            "max_ms": round(latencies[-1], 2),
            "mean_hits": round(statistics.mean(hits), 1)}


# ---------------------------------------------------------------- the two backends


def _segments(target: Path | str) -> int:
    """Sentences stored at `target` (0 when there is no archive yet)."""
    if isinstance(target, Path) and not target.exists():
        return 0
    try:
        with Archive(target, readonly=True) as archive:
            return archive.db.execute("SELECT count(*) FROM segments").fetchone()[0]
    except ArchiveError:
        return 0


def _size_mb(target: Path | str) -> dict[str, int]:
    """The archive's size on disk: the SQLite file (with its WAL), or every table and index
    of the archive's schema on PostgreSQL; `search_mb` is the search index's part."""
    if isinstance(target, Path):
        files = [target, target.with_name(target.name + "-wal")]
        with Archive(target, readonly=True) as archive:
            fts = archive.db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%fts%'").fetchone()[0] \
                if _has_dbstat(archive.db) else None
        return {"db_mb": round(sum(f.stat().st_size for f in files if f.exists()) / 2**20),
                "search_mb": round(fts / 2**20) if fts else None}
    with Archive(target, readonly=True) as archive:
        total, search_index = archive.db.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind = 'r'),"
            " sum(pg_relation_size(c.oid)) FILTER (WHERE c.relname LIKE '%search')"
            " FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace").fetchone()
        columns = archive.db.execute(
            "SELECT (SELECT coalesce(sum(pg_column_size(ru_search)), 0) FROM segments)"
            " + (SELECT coalesce(sum(pg_column_size(en_search)), 0) FROM translations)"
        ).fetchone()[0]
    return {"db_mb": round(total / 2**20),
            "search_mb": round((search_index + columns) / 2**20)}


def _has_dbstat(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except sqlite3.Error:
        return False


class _Server:
    """A schema of its own on the PostgreSQL server for the benchmark's archive, dropped at
    the end unless the archive is to be kept (`--pg` names one)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.schema = f"ruen_bench_{os.getpid()}"
        self.connection = psycopg.connect(url, autocommit=True)
        self.connection.execute(f"CREATE SCHEMA {self.schema}")
        separator = "&" if "?" in url else "?"
        self.archive = f"{url}{separator}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        self.connection.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.connection.close()


def _vacuum(target: str) -> float:
    """VACUUM ANALYZE (what autovacuum does soon after a load): the planner's statistics, and
    the GIN indexes' pending entries moved into the index. Its seconds are reported apart."""
    began = time.perf_counter()
    with Archive(target) as archive:
        archive.db.execute("VACUUM ANALYZE")
    return time.perf_counter() - began


def run(pairs: int, backends: list[str], db: Path | None, pg: str | None, server: str,
        queries: int, seed: int, writers: int = 1) -> dict:
    workdir = None
    if db is None:
        workdir = tempfile.TemporaryDirectory(prefix="ruen-bench-")
        db = Path(workdir.name) / "bench.db"
    temporary = None
    if "postgresql" in backends and pg is None:
        temporary = _Server(server)
        pg = temporary.archive
    targets: dict[str, Path | str] = {"sqlite": db, "postgresql": pg or ""}
    try:
        report: dict = {"pairs": pairs, "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
                        "backends": {}}
        for backend in backends:
            target = targets[backend]
            figures: dict = {"archive": str(db) if backend == "sqlite" else
                             display_name(str(target))}
            existing = _segments(target)
            if existing:
                figures.update(pairs=existing, build_seconds=None, reused_archive=True)
                report["pairs"] = existing
            else:
                seconds = build(target, pairs, seed, writers)
                figures.update(build_seconds=round(seconds, 1), writers=writers,
                               build_pairs_per_second=round(pairs / seconds))
            if backend == "postgresql":
                figures["vacuum_seconds"] = round(_vacuum(str(target)), 1)
            figures.update(_size_mb(target))
            report["backends"][backend] = figures
        # the same queries on every backend, drawn from the first (all hold the same pairs)
        sets = query_sets(targets[backends[0]], queries, seed)
        for backend in backends:
            report["backends"][backend]["latency"] = {
                name: time_queries(targets[backend], qs, options)
                for name, (qs, options) in sets.items()}
        report["target_p95_ms"] = TARGET_P95_MS
        return report
    finally:
        if workdir is not None:
            workdir.cleanup()
        if temporary is not None:
            temporary.drop()


def table(report: dict) -> str:
    """The report side by side, one column per backend (a Markdown table)."""
    backends = report["backends"]
    names = list(backends)
    lines = ["| " + f"{report['pairs']:,} pairs | " + " | ".join(names) + " |",
             "| --- |" + " --- |" * len(names)]

    def row(label: str, cell: Callable[[dict], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(backends[n]) for n in names) + " |")

    row("stored and indexed, pairs/s", lambda f: f"{f['build_pairs_per_second']:,}"
        + (f" ({f['writers']} writers)" if f.get("writers", 1) > 1 else "")
        if f.get("build_pairs_per_second") else "(reused)")
    row("archive size (search index)", lambda f: f"{f['db_mb']:,} MB"
        + (f" ({f['search_mb']:,} MB)" if f.get("search_mb") else ""))
    if any("vacuum_seconds" in f for f in backends.values()):
        row("VACUUM ANALYZE after the load", lambda f: f"{f['vacuum_seconds']} s"
            if "vacuum_seconds" in f else "")
    for kind in next(iter(backends.values()))["latency"]:
        row(f"{kind}: p50 / p95 / max", lambda f, k=kind: "{p50_ms:.1f} / {p95_ms:.1f} / "
            "{max_ms:.1f} ms".format(**f["latency"][k]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1_000_000, help="sentence pairs to build")
    parser.add_argument("--backend", choices=("both", *BACKENDS), default="both")
    parser.add_argument("--db", type=Path, help="keep the SQLite archive here (reused if it "
                        "exists)")
    parser.add_argument("--pg", help="keep the PostgreSQL archive at this URL (reused if it "
                        "holds one); without it, a schema made for the run and dropped after")
    parser.add_argument("--server", default=DEFAULT_SERVER,
                        help=f"the PostgreSQL database for that schema ({DEFAULT_SERVER})")
    parser.add_argument("--queries", type=int, default=QUERIES, help="queries per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--writers", type=int, default=1,
                        help="processes storing the pairs at once (each every Nth document)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    report = run(args.pairs, backends, args.db, args.pg, args.server, args.queries, args.seed,
                 args.writers)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(table(report))


if __name__ == "__main__":
    main()
