"""What `Glossary.enforce` decides, around an engine stand-in whose outputs are known: which
sentences are decoded again, what is kept, rewritten, rejected or left alone. (Enforcement on
the real backends: test_enforce_backends.py.)"""

from __future__ import annotations

import pytest

from corpus.types import Alternative, Hypothesis
from translate.engine import DecodeSettings
from translate.engine.base import ConstrainedRequest, Constraint
from translate.glossary import Entry, Glossary


class _Fixed:
    """An engine stand-in that always says the same English and cannot constrain."""

    supports_constraints = False
    max_input_tokens = 512

    def __init__(self, english: str) -> None:
        self.english = english

    def count_tokens(self, sentences: list[str]) -> list[int]:
        return [len(s.split()) for s in sentences]


class _Constraining(_Fixed):
    """A stand-in that can constrain: it appends the targets, with the score given (and
    records what it was asked, call by call)."""

    supports_constraints = True
    max_input_tokens = 5

    def __init__(self, english: str, score: float = 0.0) -> None:
        super().__init__(english)
        self.score = score
        self.calls: list[list[ConstrainedRequest]] = []

    def translate_constrained_batch(self, requests: list[ConstrainedRequest],
                                    settings: DecodeSettings) -> list[Hypothesis]:
        self.calls.append(list(requests))
        return [Hypothesis(" ".join([self.english, *(c.target for c in r.constraints)]),
                           self.score) for r in requests]


def test_only_sentences_missing_a_target_are_decoded_again_all_at_once() -> None:
    glossary = Glossary([Entry("Хама", "Hama")])
    engine = _Constraining("Fighting.")
    results = glossary.enforce(["Бои у Хамы.", "Бои у Хамы.", "Тихо.", "Хама."],
                               [Hypothesis("Fighting near Hama."), Hypothesis("Fighting."),
                                Hypothesis("Quiet."), Hypothesis("Silence.")], engine,
                               DecodeSettings())
    assert [[r.sentence for r in call] for call in engine.calls] == [["Бои у Хамы.", "Хама."]]
    # the constraint says where the source term is
    assert [c for r in engine.calls[0] for c in r.constraints] == [
        Constraint("Hama", 6, 10), Constraint("Hama", 0, 4)]
    assert [(r.en, [t.status for t in r.terms]) for r in results] == [
        ("Fighting near Hama.", ["ok"]), ("Fighting. Hama", ["enforced"]), ("Quiet.", []),
        ("Fighting. Hama", ["enforced"])]


def test_the_unconstrained_output_is_kept_as_an_alternative() -> None:
    glossary = Glossary([Entry("Хама", "Hama")])
    [result] = glossary.enforce(["Бои у Хамы."], [Hypothesis("Fighting near Khama.", -0.4)],
                                _Constraining("Fighting near", score=-0.9), DecodeSettings())
    assert (result.en, result.score) == ("Fighting near Hama", -0.9)
    assert result.alternatives == (Alternative("Fighting near Khama.", -0.4, "unconstrained"),)


def test_an_enforced_output_scoring_far_below_is_rejected_and_the_term_missing() -> None:
    # never worse: a constraint that wrecks the sentence loses to the model's own output
    glossary = Glossary([Entry("Хама", "Hama")], max_score_drop=2.0)
    [result] = glossary.enforce(["Бои у Хамы."], [Hypothesis("Fighting near Khama.", -0.4)],
                                _Constraining("garbage garbage", score=-3.5), DecodeSettings())
    assert (result.en, result.score) == ("Fighting near Khama.", -0.4)
    assert [t.status for t in result.terms] == ["missing"]
    assert result.alternatives == (Alternative("garbage garbage Hama", -3.5, "constrained"),)


@pytest.mark.parametrize("english", [
    'They launched Operation "Deterrence of Aggression." on Hama',
    "They launched Operation «Deterrence of Aggression» on Hama.",
    "“Operation Deterrence of Aggression”, they said, reached Hama!",
])
def test_a_sentence_that_has_its_targets_is_untouched(english: str) -> None:
    glossary = Glossary([Entry("операция «Сдерживание агрессии»",
                               "Operation Deterrence of Aggression"), Entry("Хама", "Hama")])
    engine = _Constraining("never asked")
    [result] = glossary.enforce(["Они начали операцию «Сдерживание агрессии» на Хаму."],
                                [Hypothesis(english, -0.5)], engine, DecodeSettings())
    assert engine.calls == []
    assert (result.en, result.alternatives) == (english, ())
    assert [t.status for t in result.terms] == ["ok", "ok"]


def test_a_sentence_too_long_for_the_model_is_not_decoded_again_cut() -> None:
    glossary = Glossary([Entry("Хама", "Hama")])
    engine = _Constraining("Long fighting.")
    source = "Долгие бои шли у Хамы весь день и всю ночь."  # 9 words, the model takes 5
    [result] = glossary.enforce([source], [Hypothesis("Long fighting.")], engine,
                                DecodeSettings())
    assert engine.calls == []
    assert (result.en, [t.status for t in result.terms]) == ("Long fighting.", ["missing"])


@pytest.mark.parametrize(("english", "final", "status"), [
    ("Fighting near Hama.", "Fighting near Hama.", "ok"),            # already right
    ("Fighting near Khama.", "Fighting near Hama.", "enforced"),     # variant rewritten
    ("Fighting near Khamas.", "Fighting near Khamas.", "missing"),   # not a whole-word variant
])
def test_variants_are_rewritten_only_as_whole_words(english: str, final: str,
                                                    status: str) -> None:
    glossary = Glossary([Entry("Хама", "Hama", variants=("Khama",))])
    [result] = glossary.enforce(["Бои у Хамы."], [Hypothesis(english)], _Fixed(english),
                                DecodeSettings())
    assert result.en == final
    assert [t.status for t in result.terms] == [status]


def test_variants_are_not_touched_without_the_source_term() -> None:
    glossary = Glossary([Entry("Хама", "Hama", variants=("Khama",))])
    [result] = glossary.enforce(["Бои у Хомса."], [Hypothesis("Khama is far.")],
                                _Fixed(""), DecodeSettings())
    assert (result.en, result.terms) == ("Khama is far.", ())


def test_rewriting_keeps_one_article_and_sentence_case() -> None:
    glossary = Glossary([Entry("режим Асада", "the Assad regime",
                               variants=("regime of Assad", "Assad's regime"))])
    cases = [("The regime of Assad fell.", "The Assad regime fell."),
             ("Assad's regime fell.", "The Assad regime fell."),
             ("He fought the regime of Assad.", "He fought the Assad regime.")]
    for english, expected in cases:
        [result] = glossary.enforce(["Режим Асада пал."], [Hypothesis(english)],
                                    _Fixed(english), DecodeSettings())
        assert result.en == expected
        assert result.terms[0].status == "enforced"
