"""Length-sorted batches, splitting of over-long sentences, and the pipeline putting results
back in document order (on the tiny model)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.types import Hypothesis
from translate.batching import plan_batches, split_long
from translate.engine import DecodeSettings, Engine, load_engine
from translate.model import resolve_model
from translate.pipeline import Pipeline


def words(text: str) -> int:
    """A stand-in tokenizer: one token per word, plus EOS."""
    return len(text.split()) + 1


# --- plan_batches --------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(1, 300), max_size=60),
       max_tokens=st.integers(1, 2000), max_sentences=st.integers(1, 16))
def test_batches_cover_every_index_once_within_budget(lengths: list[int], max_tokens: int,
                                                      max_sentences: int) -> None:
    batches = plan_batches(lengths, max_tokens, max_sentences)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= max_sentences
        padded = max(lengths[i] for i in batch) * len(batch)
        # Over budget only when one sentence alone is longer than the budget.
        assert padded <= max_tokens or len(batch) == 1


def test_batches_are_sorted_longest_first() -> None:
    lengths = [5, 50, 7, 48, 6, 49]
    batches = plan_batches(lengths, max_tokens=1000, max_sentences=2)
    assert [[lengths[i] for i in batch] for batch in batches] == [[50, 49], [48, 7], [6, 5]]
    # A tight budget keeps long sentences out of big batches.
    tight = plan_batches(lengths, max_tokens=90, max_sentences=64)
    assert [[lengths[i] for i in batch] for batch in tight] == [[50], [49], [48], [7, 6, 5]]


def test_no_sentences_no_batches() -> None:
    assert plan_batches([], 100, 8) == []


# --- split_long ----------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(sentence=st.text(alphabet=st.sampled_from("абвгд ,;:—-"), max_size=400),
       limit=st.integers(2, 30))
def test_split_long_loses_nothing_and_every_piece_fits(sentence: str, limit: int) -> None:
    def count(text: str) -> int:  # characters as tokens, EOS included: the hardest case
        return len(text) + 1

    pieces = split_long(sentence, count, limit)
    assert "".join("".join(pieces).split()) == "".join(sentence.split())
    assert all(count(p) <= limit for p in pieces)
    if count(sentence) <= limit:
        assert pieces == [sentence]


def test_split_long_cuts_at_clause_boundaries_first() -> None:
    sentence = ("силы режима отступают под давлением, повстанцы наступают с севера; "
                "город Хама освобожден, жители вышли на улицы: праздник длится до утра")
    pieces = split_long(sentence, words, limit=11)
    assert pieces == ["силы режима отступают под давлением, повстанцы наступают с севера;",
                      "город Хама освобожден, жители вышли на улицы:",
                      "праздник длится до утра"]
    # Without semicolons or colons, commas come next, and only then plain spaces.
    commas = split_long("один два три, четыре пять шесть, семь восемь", words, limit=5)
    assert commas == ["один два три,", "четыре пять шесть,", "семь восемь"]
    spaces = split_long("один два три четыре пять шесть", words, limit=4)
    assert spaces == ["один два три", "четыре пять шесть"]


def test_split_long_halves_a_run_without_spaces() -> None:
    pieces = split_long("а" * 100, lambda t: len(t) + 1, limit=30)
    assert "".join(pieces) == "а" * 100
    assert all(len(p) + 1 <= 30 for p in pieces)


# --- the pipeline on the tiny model ---------------------------------------------------------

class Recording(Engine):
    """Passes everything to a real engine and records each batch it is given."""

    def __init__(self, inner: Engine) -> None:
        super().__init__(inner.ref)
        self.inner = inner
        self.backend = inner.backend
        self.batches: list[list[str]] = []

    @property
    def max_input_tokens(self) -> int:
        return self.inner.max_input_tokens

    @property
    def default_beam(self) -> int:
        return self.inner.default_beam

    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(sentences)

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        self.batches.append(list(sentences))
        return self.inner.translate_batch(sentences, settings)


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Engine:
    return load_engine(resolve_model(str(tiny_model)), "transformers")


SENTENCES = [
    "Да.",
    "Силы режима отступают под давлением повстанцев, а гражданское сопротивление укрепляет "
    "революцию в провинции Хомс и в городе Хама, где начались новые столкновения.",
    "Мы идем.",
    "Город Хама полностью освобожден после ожесточенных боев.",
    "Коалиция взяла полный контроль над несколькими деревнями, заявил министр обороны.",
    "Хомс.",
    "Представитель командования подтвердил освобождение города.",
]


def test_results_come_back_in_document_order(engine: Engine) -> None:
    # A fixed output cap (ratio 0): the engine caps a whole batch by its longest source, and the
    # random model never stops early, so a ratio would let batch-mates change each other's length.
    settings = DecodeSettings(beam=1, max_batch_sentences=2, length_ratio=0.0, length_slack=12)
    recording = Recording(engine)
    batched = Pipeline(recording, settings).translate(SENTENCES)
    alone = [engine.translate_batch([s], settings)[0].text for s in SENTENCES]
    assert [en for en, _ in batched] == alone
    # It really was batched by length, not one by one in order.
    assert len(recording.batches) == 4
    assert recording.batches[0][0] == SENTENCES[1]


def test_a_sentence_longer_than_the_model_takes_is_split_and_rejoined(engine: Engine) -> None:
    clause = "силы режима отступают под давлением повстанцев, "
    long = (clause * 60).strip().rstrip(",") + "."
    limit = engine.max_input_tokens
    assert engine.count_tokens([long])[0] > limit  # the model could not take it whole
    settings = DecodeSettings(beam=1, length_ratio=0.0, length_slack=12)
    recording = Recording(engine)
    english = Pipeline(recording, settings).translate(["Мы идем.", long])[1][0]
    pieces = [p for batch in recording.batches for p in batch if p != "Мы идем."]
    assert len(pieces) >= 2
    assert all(n <= limit for n in engine.count_tokens(pieces))
    assert "".join("".join(pieces).split()) == "".join(long.split())  # nothing truncated
    order = sorted(pieces, key=long.index)
    assert english == " ".join(engine.translate_batch([p], settings)[0].text for p in order)


def test_a_20000_character_sentence_without_punctuation_is_translated_whole(
        engine: Engine) -> None:
    phrase = "силы режима отступают под давлением повстанцев город хама освобожден "
    long = (phrase * 300).strip()
    assert len(long) > 20_000
    settings = DecodeSettings(beam=1, length_ratio=0.0, length_slack=4)
    recording = Recording(engine)
    [(english, _)] = Pipeline(recording, settings).translate([long])
    pieces = [p for batch in recording.batches for p in batch]
    assert all(n <= engine.max_input_tokens for n in engine.count_tokens(pieces))
    assert sorted(" ".join(pieces).split()) == sorted(long.split())  # every word sent, once
    assert len(english.split()) >= len(pieces)  # one translation per piece, joined
