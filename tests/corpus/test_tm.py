"""Translation memory: a repeated document costs no model call, post-edits win over machine
output, and a fuzzy lookup finds similar sentences for a translator."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from corpus.errors import QueryError
from corpus.store import Archive
from corpus.tm import lookup
from corpus.types import Document, Hypothesis, SentencePair, System
from translate.cli import app
from translate.engine import DecodeSettings, load_engine
from translate.model import resolve_model
from translate.pipeline import Pipeline

TEXT = ("Силы режима отступают под давлением повстанцев. Город Хама полностью освобожден.\n\n"
        "Мы продолжаем двигаться на юг, к Дамаску.")
SAME_SENTENCES = ("Мы продолжаем двигаться на юг, к Дамаску. "
                  "Силы режима отступают под давлением повстанцев.")


class CountingEngine:
    """Wraps an engine and counts the sentences it is asked to translate."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.sentences: list[str] = []

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        self.sentences += sentences
        return self.engine.translate_batch(sentences, settings)

    def translate_batches(self, batches: Iterable[Sequence[str]], settings: DecodeSettings
                          ) -> Iterator[list[Hypothesis]]:
        def counted() -> Iterator[Sequence[str]]:
            for batch in batches:
                self.sentences += batch
                yield batch
        return self.engine.translate_batches(counted(), settings)

    def __getattr__(self, name: str):
        return getattr(self.engine, name)


@pytest.fixture(scope="module")
def engine(tiny_model: Path):
    return load_engine(resolve_model(str(tiny_model)))


def _pipeline(engine, archive: Archive) -> tuple[Pipeline, CountingEngine]:
    counting = CountingEngine(engine)
    return Pipeline(counting, DecodeSettings(beam=1), archive=archive), counting  # type: ignore[arg-type]


def test_translating_a_document_again_makes_no_model_call(
        db: Path | str, engine, tmp_path: Path) -> None:
    with Archive(db) as archive:
        first, counting = _pipeline(engine, archive)
        result = first.translate_document(Document("a.txt", "a", TEXT))
        assert len(counting.sentences) == 3 and {p.origin for p in result.pairs} == {"mt"}

        again, counting = _pipeline(engine, archive)
        repeat = again.translate_document(Document("a.txt", "a", TEXT))
        assert counting.sentences == []
        assert [p.origin for p in repeat.pairs] == ["tm"] * 3
        assert [p.en for p in repeat.pairs] == [p.en for p in result.pairs]

        # a different document made of sentences already translated: no model call either
        other = again.translate_document(Document("b.txt", "b", SAME_SENTENCES))
        assert counting.sentences == [] and other.reused == 2


def test_a_post_edit_wins_over_machine_output_in_memory(
        db: Path | str, engine, tmp_path: Path) -> None:
    with Archive(db) as archive:
        pipeline, _ = _pipeline(engine, archive)
        doc = pipeline.translate_document(Document("a.txt", "a", TEXT)).doc_id
        assert archive.post_edit(doc, 1, "The city of Hama is fully liberated.")

        again, counting = _pipeline(engine, archive)
        repeat = again.translate_document(Document("b.txt", "b", "Город Хама полностью "
                                                   "освобожден."))
        assert counting.sentences == []
        assert repeat.pairs[0].en == "The city of Hama is fully liberated."
        assert repeat.pairs[0].origin == "tm"


def test_no_memory_translates_everything_again(db: Path | str, engine, tmp_path: Path) -> None:
    with Archive(db) as archive:
        _pipeline(engine, archive)[0].translate_document(Document("a.txt", "a", TEXT))
        pipeline, counting = _pipeline(engine, archive)
        pipeline.use_memory = False
        pipeline.translate_document(Document("a.txt", "a", TEXT))
        assert len(counting.sentences) == 3


# ---------------------------------------------------------------- fuzzy lookup

MT = System("m")
ROWS = [
    ("Силы режима отступают под давлением повстанцев.", "Regime forces retreat under pressure."),
    ("Силы режима наступают на город Хама.", "Regime forces advance on Hama."),
    ("Погода сегодня хорошая.", "The weather is fine today."),
]


@pytest.fixture
def archive(db: Path | str) -> Archive:
    archive = Archive(db)
    pairs = [SentencePair(None, i, 0, ru, en) for i, (ru, en) in enumerate(ROWS)]
    archive.save_document(Document("a.txt", "a", " ".join(r for r, _ in ROWS)), pairs, MT)
    yield archive
    archive.close()


def test_fuzzy_lookup_orders_by_similarity_and_drops_unrelated(archive: Archive) -> None:
    matches = lookup(archive, "Силы режима отступают под давлением оппозиции.")
    assert [m.ru for m in matches] == [ROWS[0][0], ROWS[1][0]][:len(matches)]
    assert matches[0].similarity > 80 and matches[0].en == ROWS[0][1]
    assert all(m.ru != ROWS[2][0] for m in matches)
    assert [m.similarity for m in matches] == sorted((m.similarity for m in matches),
                                                     reverse=True)


def test_fuzzy_lookup_shows_the_post_edit(archive: Archive) -> None:
    archive.post_edit(1, 0, "Government forces fall back under rebel pressure.")
    match = lookup(archive, "Силы режима отступают под давлением повстанцев.")[0]
    assert match.similarity == 100
    assert (match.en, match.kind) == ("Government forces fall back under rebel pressure.",
                                      "post-edit")


def test_fuzzy_lookup_threshold_and_empty_input(archive: Archive) -> None:
    assert lookup(archive, "Совсем другое предложение про экономику.", threshold=90) == []
    with pytest.raises(QueryError):
        lookup(archive, "   ")


def test_tm_lookup_command(archive: Archive, runner, db: Path) -> None:
    archive.close()
    result = runner.invoke(app, ["tm", "lookup", "Силы режима наступают на город Хомс.",
                                 "--db", str(archive.target), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["ru"] == ROWS[1][0] and rows[0]["en"] == ROWS[1][1]
    assert 80 < rows[0]["similarity"] < 100


# ---------------------------------------------------------------- the README's example

# A news article like the sample one the README's set-up translates into the archive
# (`ruen translate ../shared/data/article.ru.txt`): the sentence the README's lookup is meant
# to find is the second, a long one that contains "силы режима отступают" in the middle.
NEWS = (
    "Повстанцы, которыми руководит Южный операционный центр, заняли несколько районов в "
    "провинциях Хама и Дараа, продвигаясь к Дамаску. Эти события стали поворотным моментом в "
    "затяжном конфликте, поскольку силы режима отступают под натиском, а местное "
    "сопротивление крепнет с каждым днём.\n\n"
    "В четверг командование объявило о полном контроле над городом Хама. "
    "Представитель командования заявил, что Хомс ждёт прибытия их отрядов.\n\n"
    "Подписывайтесь на наш канал, чтобы не пропустить новости.")


def test_the_readme_lookup_finds_the_sentence_it_is_written_for(
        db: Path | str, echo_engine, tmp_path: Path,
                                                                 runner) -> None:
    with Archive(db) as archive:
        pipeline = Pipeline(echo_engine, DecodeSettings(beam=1), archive=archive)
        doc = pipeline.translate_document(Document("article.ru.txt", "article", NEWS)).doc_id
    result = runner.invoke(app, ["tm", "lookup", "Силы режима отступают к Хомсу.",
                                 "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)[0]
    assert (best["doc"], best["index"], best["kind"], best["match"]) == (doc, 1, "mt",
                                                                        "fragment")
    start, end = best["span"]
    assert best["ru"][start:end] == "силы режима отступают"
    assert 70 < best["similarity"] < 80  # 19 of the query's 25 letters

    table = runner.invoke(app, ["tm", "lookup", "Силы режима отступают к Хомсу.",
                                "--db", str(db)])
    assert table.exit_code == 0 and "fragment" in table.stdout and f"{doc}:1" in table.stdout


def test_lemmas_score_above_word_forms(archive: Archive) -> None:
    archive.save_document(Document("b.txt", "b", "Силы режима отступают от Хомса."),
                          [SentencePair(None, 0, 0, "Силы режима отступают от Хомса.",
                                        "Regime forces retreat from Homs.")], MT)
    [match] = [m for m in lookup(archive, "Силы режима отступают к Хомсу.")
               if m.ru.endswith("Хомса.")]
    # lemmas: only к/от differ (1 of 5); word forms: Хомсу/Хомса too (2 of 5)
    assert (match.match, match.similarity, match.words) == ("fuzzy", 80.0, 60.0)


def test_human_translations_rank_before_machine_output_each_labelled(archive: Archive) -> None:
    reference = SentencePair(None, 0, 0, ROWS[0][0], "Regime troops are pulling back under "
                             "rebel pressure.")
    archive.import_document("ref", "ref.tmx", [reference, *[
        SentencePair(None, i, 0, ru, en) for i, (ru, en) in enumerate(ROWS) if i]], "reference")
    matches = lookup(archive, ROWS[0][0], limit=10)
    top = [(m.kind, m.en) for m in matches if m.similarity == 100]
    assert top == [("reference", reference.en), ("mt", ROWS[0][1])]
    archive.post_edit(1, 0, "Regime forces are falling back under pressure.")
    top = [m.kind for m in lookup(archive, ROWS[0][0], limit=10) if m.similarity == 100]
    assert top == ["post-edit", "reference", "mt"]
    # the same English stored twice is one hit, under the better kind
    assert len({(m.ru, m.en) for m in matches}) == len(matches)


def test_lookup_rejects_what_it_cannot_score(archive: Archive) -> None:
    for sentence, options in (("!!! ...", {}), ("Хомс", {"threshold": 101}),
                              ("Хомс", {"limit": 0})):
        with pytest.raises(QueryError):
            lookup(archive, sentence, **options)
