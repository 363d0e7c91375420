"""Search benchmark: build an archive of N generated sentence pairs, then time queries.

    python -m bench.search --json                  # 1,000,000 pairs (a few minutes, ~1.5 GB)
    python -m bench.search --pairs 100000          # a quicker run
    python -m bench.search --db /tmp/big.db        # keep the archive; a later run reuses it

The text is generated, not translated: Russian and English sentences drawn independently from
word lists written here, in inflected forms (so lemma queries have forms to find), with a long
tail of made-up words declined like Russian nouns so that word frequencies look like a real
archive's (a few very common words, most words rare). Reports the index build rate (pairs
stored and indexed per second, through `Archive.save_document` as `ruen translate` stores
them) and p50/p95 latency of `corpus.search.search` (20 hits, highlights and translations
included) for single words (`--exact`), two-word phrases and lemma queries.
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
from corpus.search import search
from corpus.store import Archive
from corpus.types import Document, SentencePair, System

SENTENCES_PER_DOCUMENT = 50
QUERIES = 200
TARGET_P95_MS = 50.0
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


def build(path: Path, pairs: int, seed: int) -> float:
    """Store `pairs` generated pairs in documents of SENTENCES_PER_DOCUMENT; returns seconds
    spent storing and indexing (generating the text is not counted)."""
    ru_vocabulary, en_vocabulary = vocabularies(seed)
    rng = random.Random(seed + 1)
    make_ru, make_en = SentenceMaker(ru_vocabulary, rng), SentenceMaker(en_vocabulary, rng)
    spent = 0.0
    with Archive(path) as archive, progress("pair") as bar:
        task = bar.add_task("Building", total=pairs)
        for number, start in enumerate(range(0, pairs, SENTENCES_PER_DOCUMENT), start=1):
            rows = [(make_ru(), make_en())
                    for _ in range(min(SENTENCES_PER_DOCUMENT, pairs - start))]
            text, sentence_pairs = "", []
            for index, (ru, en) in enumerate(rows):
                sentence_pairs.append(SentencePair(doc=None, index=index, paragraph=index // 5,
                                                   ru=ru, en=en, start=len(text),
                                                   end=len(text) + len(ru)))
                text += ru + " "
            document = Document(f"bench/{number}.txt", f"Synthetic {number}", text)
            began = time.perf_counter()
            archive.save_document(document, sentence_pairs, SYSTEM)
            spent += time.perf_counter() - began
            bar.advance(task, len(rows))
    return spent


# ---------------------------------------------------------------- queries


def query_sets(path: Path, count: int, seed: int) -> dict[str, tuple[list[str], dict]]:
    """Queries drawn from the archive itself, so that every one has something to find."""
    rng = random.Random(seed + 2)
    ru_vocabulary, en_vocabulary = vocabularies(seed)
    db = sqlite3.connect(path)
    top = db.execute("SELECT max(id) FROM segments").fetchone()[0]

    def sentence() -> tuple[str, str]:
        row = None
        while row is None:
            row = db.execute(
                "SELECT s.ru, t.en FROM segments s JOIN translations t ON t.segment_id = s.id"
                " WHERE s.id = ?", (rng.randint(1, top),)).fetchone()
        return row

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
        db.close()


def time_queries(path: Path, queries: list[str], options: dict) -> dict[str, float]:
    latencies, hits = [], []
    with Archive(path, readonly=True) as archive:
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


def run(pairs: int, db: Path | None, queries: int, seed: int) -> dict:
    workdir = None
    if db is None:
        workdir = tempfile.TemporaryDirectory(prefix="ruen-bench-")
        db = Path(workdir.name) / "bench.db"
    try:
        report: dict = {"pairs": pairs, "db": str(db), "cpus": os.cpu_count(),
                        "sqlite": sqlite3.sqlite_version}
        existing = 0
        if db.exists():
            with Archive(db, readonly=True) as archive:
                existing = archive.db.execute("SELECT count(*) FROM segments").fetchone()[0]
        if existing:
            report.update(pairs=existing, build_seconds=None, reused_archive=True)
        else:
            seconds = build(db, pairs, seed)
            report.update(build_seconds=round(seconds, 1),
                          build_pairs_per_second=round(pairs / seconds))
        report["db_mb"] = round(db.stat().st_size / 2**20)
        report["latency"] = {name: time_queries(db, qs, options)
                             for name, (qs, options) in query_sets(db, queries, seed).items()}
        report["target_p95_ms"] = TARGET_P95_MS
        return report
    finally:
        if workdir is not None:
            workdir.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1_000_000, help="sentence pairs to build")
    parser.add_argument("--db", type=Path, help="keep the archive here (reused if it exists)")
    parser.add_argument("--queries", type=int, default=QUERIES, help="queries per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run(args.pairs, args.db, args.queries, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if report.get("build_seconds"):
        print(f"built {report['pairs']:,} pairs in {report['build_seconds']} s "
              f"({report['build_pairs_per_second']:,} pairs/s), {report['db_mb']} MB")
    for name, figures in report["latency"].items():
        print(f"{name:>12}: p50 {figures['p50_ms']:7.2f} ms  p95 {figures['p95_ms']:7.2f} ms  "
              f"max {figures['max_ms']:7.2f} ms  ({figures['mean_hits']} hits on average)")


if __name__ == "__main__":
    main()
