"""`audit`: every English rendering of each glossary term across archived sentences."""

from __future__ import annotations

from corpus.types import SentencePair
from translate.glossary import Entry, Glossary
from translate.glossary.audit import NOT_FOUND, audit, rendering

GLOSSARY = Glossary([
    Entry("Хама", "Hama", variants=("Khama",)),
    Entry("Командование военных операций", "Military Operations Command"),
    Entry("Идлиб", "Idlib"),
])


def _pair(index: int, ru: str, en: str) -> SentencePair:
    return SentencePair(doc=1, index=index, paragraph=0, ru=ru, en=en)


def test_audit_counts_each_rendering_per_term() -> None:
    pairs = [
        _pair(0, "Город Хама освобожден.", "The city of Hama was liberated."),
        _pair(1, "Бои у Хамы.", "Fighting near Khama."),                 # a listed variant
        _pair(2, "Над Хамой флаг.", "A flag over Hamah."),               # close to the target
        _pair(3, "В Хаме тихо.", "It is quiet there."),                  # not rendered at all
        _pair(4, "Командование военных операций заявило.",
              "The Command of Military Operations said."),              # words reordered
        _pair(5, "Командованием военных операций руководит совет.",
              "The Military Operations Command is led by a council."),
    ]
    result = {a.entry.ru: a for a in audit(GLOSSARY, pairs)}
    hama = result["Хама"]
    assert hama.sentences == 4
    assert dict(hama.renderings) == {"Hama": 1, "Khama": 1, "Hamah": 1, NOT_FOUND: 1}
    assert not hama.consistent
    command = result["Командование военных операций"]
    assert dict(command.renderings) == {"Command of Military Operations": 1,
                                        "Military Operations Command": 1}
    assert result["Идлиб"].sentences == 0 and result["Идлиб"].consistent
    assert hama.as_json()["renderings"][0]["count"] == 1


def test_rendering_of_an_unrelated_sentence_is_not_found() -> None:
    assert rendering("The coalition took several villages.", GLOSSARY.entries[0]) == NOT_FOUND
    assert rendering("Hamas said nothing.", Entry("Хама", "Hama", variants=())) == "Hamas"


def test_a_capital_that_only_starts_the_sentence_is_the_same_rendering() -> None:
    regime = Entry("режим Асада", "the Assad regime", variants=("the regime of Assad",))
    glossary = Glossary([regime])
    pairs = [
        _pair(0, "Режим Асада отступил.", "The Assad regime retreated."),
        _pair(1, "Силы режима Асада бежали.", "Forces of the Assad regime fled."),
        _pair(2, "«Режим Асада пал», — сказал он.", "“The Assad regime has fallen,” he said."),
        _pair(3, "Режим Асада молчит.", "The regime of Assad is silent."),   # a variant, folded
        _pair(4, "Он сказал, что режим Асада пал.", "He said The Assad Regime fell."),  # mid-way
    ]
    [result] = audit(glossary, pairs)
    assert dict(result.renderings) == {"the Assad regime": 3, "the regime of Assad": 1,
                                       "The Assad Regime": 1}
