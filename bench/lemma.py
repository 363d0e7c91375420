"""Lemma search benchmark: precision and recall of search by lemma on text annotated by hand.

    python -m bench.lemma              # a table: English and Russian, ruen's keys and others
    python -m bench.lemma --json
    python -m bench.lemma --misses     # also each query's wrong and missed words

The data are `bench/data/lemmas.en.txt` and `lemmas.ru.txt`: news sentences written for ruen,
each word annotated `form/lemma` (Universal Dependencies conventions), irregular forms frequent
on purpose. Every word is stored as a sentence pair of its own in a real archive, through
`Archive.save_document`, so the index, the keys and the query rendering are ruen's own. Then,
for each distinct lemma of a content word (function words, listed below, are in the index but
not searched for), the lemma is searched for as a user would type it (`corpus.search.search`)
and the words found are compared with the words annotated with that lemma. Precision and recall
are micro-averaged over all queries.

For comparison the same is measured on an in-memory FTS5 index with other keys: the word itself
under SQLite's porter tokenizer (English search before lemmas), simplemma's lemmas (when it is
installed), and lemminflect's lemmas without the porter stemming. Targets (issue 13): English
recall ≥ 0.97 at precision ≥ 0.95; Russian not worse than before (its keys did not change).
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.lemma import english_key, fold, lemma_key
from corpus.search import search
from corpus.store import Archive
from corpus.types import Document, SentencePair, System

DATA = Path(__file__).parent / "data"
TARGET = {"en": (0.95, 0.97)}  # (precision, recall)
SYSTEM = System("bench/lemma", "0", "none", {})
_ANNOTATED = re.compile(r"([^\W_]+)(?:/([^\W_]+))?")


def _words(text: str) -> set[str]:
    return set(text.split())


#: Function words (by lemma): in the index, never searched for.
FUNCTION_WORDS = {
    "en": _words("""a the of to in on at by for with from as into over through after before behind
        around above about within since than and or but that which who what where there because
        neither both another more many several three one it he she they we i you nobody
        this these last no not"""),
    "ru": _words("""в на с к по до для о над из за через после вокруг у и а но ни не что как когда
        где чем там тот этот весь свой который мы они она он оно никто один оба три несколько
        многий больше еще потому"""),
}


@dataclass(frozen=True)
class Word:
    form: str
    lemma: str  # folded


def read_gold(path: Path) -> list[Word]:
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        for m in _ANNOTATED.finditer(line):
            words.append(Word(m.group(1), fold(m.group(2) or m.group(1))))
    return words


@dataclass
class Score:
    language: str
    method: str
    queries: int = 0
    relevant: int = 0
    retrieved: int = 0
    correct: int = 0
    misses: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.correct / self.retrieved if self.retrieved else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.relevant if self.relevant else 1.0

    def add(self, lemma: str, words: list[Word], found: set[int]) -> None:
        relevant = {i for i, w in enumerate(words) if w.lemma == lemma}
        self.queries += 1
        self.relevant += len(relevant)
        self.retrieved += len(found)
        self.correct += len(relevant & found)
        wrong = sorted({words[i].form for i in found - relevant})
        missed = sorted({words[i].form for i in relevant - found})
        if wrong or missed:
            self.misses[lemma] = {"wrong": wrong, "missed": missed}

    def as_json(self, misses: bool) -> dict[str, object]:
        row: dict[str, object] = {
            "language": self.language, "method": self.method, "queries": self.queries,
            "words": self.relevant, "precision": round(self.precision, 3),
            "recall": round(self.recall, 3)}
        if misses:
            row["misses"] = self.misses
        return row


def _queries(language: str, words: list[Word]) -> list[str]:
    return sorted({w.lemma for w in words if w.lemma not in FUNCTION_WORDS[language]
                   and not w.lemma.isdigit()})


def ruen_search(language: str, words: list[Word]) -> Score:
    """The real thing: an archive with one sentence pair per word, searched by lemma."""
    score = Score(language, "ruen (pymorphy3 key)" if language == "ru"
                  else "ruen (lemminflect + porter)")
    with tempfile.TemporaryDirectory() as tmp, Archive(Path(tmp) / "lemma.db") as archive:
        pairs = [SentencePair(None, i, 0, w.form if language == "ru" else "-",
                              w.form if language == "en" else "-") for i, w in enumerate(words)]
        archive.save_document(Document("gold.txt", "gold", " ".join(p.ru for p in pairs)), pairs,
                              SYSTEM)
        for lemma in _queries(language, words):
            hits = search(archive, lemma, lang=language, limit=len(words))
            score.add(lemma, words, {h.index for h in hits})
    return score


def keyed_index(language: str, method: str, words: list[Word], key: Callable[[str], str],
                tokenizer: str) -> Score:
    """Another way of keying words, on an FTS5 index of its own."""
    score = Score(language, method)
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(k, tokenize='{tokenizer}')")
    db.executemany("INSERT INTO t (rowid, k) VALUES (?, ?)",
                   [(i, key(w.form)) for i, w in enumerate(words)])
    for lemma in _queries(language, words):
        rows = db.execute("SELECT rowid FROM t WHERE t MATCH ?", (f'"{key(lemma)}"',))
        score.add(lemma, words, {r[0] for r in rows})
    db.close()
    return score


def run() -> list[Score]:
    english = read_gold(DATA / "lemmas.en.txt")
    russian = read_gold(DATA / "lemmas.ru.txt")
    scores = [
        ruen_search("en", english),
        keyed_index("en", "porter on the word (before)", english, str.casefold,
                    "porter unicode61"),
        keyed_index("en", "lemminflect, no stemming", english, english_key, "unicode61"),
    ]
    try:
        import simplemma
    except ImportError:
        pass
    else:
        scores.append(keyed_index(
            "en", "simplemma + porter", english,
            lambda w: simplemma.lemmatize(w.casefold(), lang="en").casefold(),
            "porter unicode61"))
    scores += [
        ruen_search("ru", russian),
        keyed_index("ru", "word form only", russian, fold, "unicode61 remove_diacritics 0"),
        keyed_index("ru", "pymorphy3 key, in memory", russian, lemma_key,
                    "unicode61 remove_diacritics 0"),
    ]
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lemma", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--misses", action="store_true",
                        help="also each query's wrong and missed words")
    args = parser.parse_args(argv)
    scores = run()
    if args.json:
        print(json.dumps([s.as_json(args.misses) for s in scores], ensure_ascii=False,
                         indent=2))
        return
    print(f"{'lang':4} {'method':32} {'queries':>7} {'words':>5} {'precision':>9} "
          f"{'recall':>6}")
    for s in scores:
        print(f"{s.language:4} {s.method:32} {s.queries:7} {s.relevant:5} "
              f"{s.precision:9.3f} {s.recall:6.3f}")
        if args.misses and s.method.startswith("ruen"):
            for lemma, miss in s.misses.items():
                print(f"     {lemma}: wrong {', '.join(miss['wrong']) or '-'}; "
                      f"missed {', '.join(miss['missed']) or '-'}")
    for language, (precision, recall) in TARGET.items():
        [ours] = [s for s in scores if s.language == language and s.method.startswith("ruen")]
        met = ours.precision >= precision and ours.recall >= recall
        print(f"{language}: target precision ≥ {precision}, recall ≥ {recall}: "
              f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
