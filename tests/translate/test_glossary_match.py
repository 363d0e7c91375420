"""Finding glossary terms in Russian text: every case form, and nothing else.

Sentences mark each expected term as `[surface|English target]`; everything unmarked must not
match. Detection precision and recall over the whole set must both be 1.0.
"""

from __future__ import annotations

import re

import pytest

from translate.glossary import Entry, Glossary, load_glossary
from translate.glossary.forms import decline_name, phrase_forms

MARK = re.compile(r"\[([^|\]]+)\|([^\]]+)\]")

SENTENCES = [
    # Хама in every case; the common nouns хам/хамство are not Hama
    "[Хама|Hama] освобождена.",
    "Бои у [Хамы|Hama] продолжаются, хамы в соцсетях негодуют.",
    "Повстанцы подошли к [Хаме|Hama] с севера.",
    "Силы режима оставили [Хаму|Hama] без боя.",
    "Над [Хамой|Hama] подняли флаг, и это не хамство.",
    "О [Хаме|Hama] писали все.",
    "Он вёл себя как хам, с хамом не спорят.",
    # Damascus is not Дамаскин; Растан is not растаял
    "Колонна идёт к [Дамаску|Damascus], а не в [Дамаск|Damascus] через [Хомс|Homs].",
    "Святой Дамаскин и Иоанн Дамаскин здесь ни при чём.",
    "Снег растаял у [Растана|Rastan], бои в [Растане|Rastan] и [Тальбисе|Talbiseh].",
    "Деревни [Дейр Фуль|Deir Ful] и [Аль-Ганту|Al-Ghantu] заняты.",
    # hyphen and space variants of one name, in several cases
    "Бои под [Дейр-эз-Зором|Deir ez-Zor] и у [Дейр эз-Зора|Deir ez-Zor].",
    "В [Дейр-эз-Зоре|Deir ez-Zor] спокойно, [Дейр эз Зор|Deir ez-Zor] на востоке.",
    # multi-word names in oblique cases; ё and е are one letter
    "Представитель [Южного операционного центра|Southern Operations Room] сообщил.",
    "Командир [Четвёртой дивизии|Fourth Division] и бойцы [Четвертой дивизии|Fourth Division].",
    "Отряды [Четвёртого подразделения|Fourth Division] отошли.",
    "Заявление [Командования военных операций|Military Operations Command] вышло ночью.",
    "[Командованием военных операций|Military Operations Command] руководит совет.",
    "Решение приняло [Командование военных операций|Military Operations Command].",
    # lowercase, the same words are generic, not the named unit
    "В каждом корпусе есть четвёртая дивизия и четвертое подразделение.",
    "Бойцы [Сирийской национальной армии|Syrian National Army] и "
    "[Сирийской арабской армии|Syrian Arab Army] встретились.",
    "Курдские [Силы демократической Сирии|Syrian Democratic Forces] отступили к "
    "[Евфрату|Euphrates], [Силами демократической Сирии|Syrian Democratic Forces] "
    "потерян [Манбидж|Manbij].",
    "Позиции [Хезболлы|Hezbollah] в [Алеппо|Aleppo] и [Идлибе|Idlib] оставлены.",
    "Падение [режима Асада|the Assad regime] и [Режим Асада|the Assad regime] пал.",
    "Министр [Али Махмуд Аббас|Ali Mahmoud Abbas] встретился с [Хассаном Абдуль Гани|"
    "Hassan Abdul Ghani].",
    "Слова [Хассана Абдуль Гани|Hassan Abdul Ghani] передали из [Дараа|Daraa].",
    "Сёла [Аль-Карак Аш-Шарки|Al-Karak al-Sharqi] и [Аль-Гария Аш-Шарки|"
    "Al-Ghariyah al-Sharqiyah] под контролем, в [Аль-Гарии Аш-Шарки|"
    "Al-Ghariyah al-Sharqiyah] тихо.",
    # abbreviations, also with case endings written on or hyphenated
    "[КВО|MOC] и [КМО|MOC] — одно и то же командование.",
    "Силы [ЮОЦ|SOR], бойцы [ЮОЦ-а|SOR] и командир [ЮОЦа|SOR].",
    "[ХТШ|HTS] и [СНА|SNA] против [СДС|SDF].",
    "Слова кво и кмо не аббревиатуры, как и слово Снаряд.",
    # quotes of every style around names
    "Группировка «[Хайят Тахрир аш-Шам|Hayat Tahrir al-Sham]» наступает.",
    'Группировка "[Хайят Тахрир аш-Шам|Hayat Tahrir al-Sham]" наступает.',
    "Группировка „[Хайят Тахрир аш-Шам|Hayat Tahrir al-Sham]“ наступает.",
    "Началась [операция «Сдерживание агрессии»|Operation Deterrence of Aggression].",
    "В ходе [операции «Сдерживание агрессии»|Operation Deterrence of Aggression] взят "
    "[Хомс|Homs].",
    "Итоги [операции „Сдерживание агрессии“|Operation Deterrence of Aggression] подвели.",
]


def parse(marked: str) -> tuple[str, set[tuple[int, int, str]]]:
    """The plain sentence and its expected (start, end, target) spans."""
    text, expected, last = "", set(), 0
    for m in MARK.finditer(marked):
        text += marked[last:m.start()]
        expected.add((len(text), len(text) + len(m.group(1)), m.group(2)))
        text += m.group(1)
        last = m.end()
    return text + marked[last:], expected


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


def test_detection_precision_and_recall_are_one(glossary: Glossary) -> None:
    true_positive = found = expected_total = 0
    mistakes = []
    for marked in SENTENCES:
        text, expected = parse(marked)
        got = {(m.start, m.end, m.entry.en) for m in glossary.match(text)}
        true_positive += len(got & expected)
        found += len(got)
        expected_total += len(expected)
        if got != expected:
            mistakes.append((text, sorted(got - expected), sorted(expected - got)))
    assert not mistakes, mistakes  # (sentence, spurious, missed)
    assert true_positive / found == 1.0
    assert true_positive / expected_total == 1.0
    assert expected_total >= 55  # the set really covers the forms above


def test_surface_is_the_text_as_written(glossary: Glossary) -> None:
    text = "Бойцы ЮОЦ-а и «Хайят Тахрир аш-Шам» вошли в Дейр-эз-Зор."
    assert [m.surface for m in glossary.match(text)] == [
        "ЮОЦ-а", "Хайят Тахрир аш-Шам", "Дейр-эз-Зор"]
    for m in glossary.match(text):
        assert text[m.start:m.end] == m.surface


def test_longest_match_wins_over_a_shorter_entry() -> None:
    glossary = Glossary([Entry("Абдуль Гани", "Abdul Ghani"),
                         Entry("Хассан Абдуль Гани", "Hassan Abdul Ghani"),
                         Entry("Хама", "Hama")])
    matches = glossary.match("Хассана Абдуль Гани видели в Хаме, Абдуль Гани тоже.")
    assert [(m.surface, m.entry.en) for m in matches] == [
        ("Хассана Абдуль Гани", "Hassan Abdul Ghani"), ("Хаме", "Hama"),
        ("Абдуль Гани", "Abdul Ghani")]


def test_case_insensitive_entries_match_lowercase_text() -> None:
    strict = Glossary([Entry("Хама", "Hama")])
    loose = Glossary([Entry("Хама", "Hama", case_sensitive=False)])
    assert strict.match("в хаме") == []
    assert [m.surface for m in loose.match("в хаме")] == ["хаме"]


@pytest.mark.parametrize(("name", "case", "form"), [
    ("Хама", "gent", "Хамы"),          # -а after a hard consonant: -ы
    ("Хама", "ablt", "Хамой"),
    ("Тальбиса", "datv", "Тальбисе"),
    ("Хезболла", "accs", "Хезболлу"),
    ("Хомс", "ablt", "Хомсом"),        # consonant: masculine endings
    ("Манбидж", "ablt", "Манбиджем"),  # after a sibilant: -ем
    ("Манбидж", "gent", "Манбиджа"),
    ("Гария", "loct", "Гарии"),        # -ия: -ии
    ("Гария", "ablt", "Гарией"),
    ("Фуль", "gent", "Фуля"),          # soft sign: masculine
    ("Фуль", "gent", "Фули"),          # ... or feminine
    ("Хассан", "accs", "Хассана"),     # persons: accusative = genitive
])
def test_unknown_names_are_declined_by_rule(name: str, case: str, form: str) -> None:
    assert form in decline_name(name)[case]


@pytest.mark.parametrize("name", ["Алеппо", "Дараа", "Ганту", "Гани", "Шарки"])
def test_names_ending_in_other_vowels_do_not_decline(name: str) -> None:
    assert all(forms == {name} for forms in decline_name(name).values())


def test_adjectives_agree_with_their_noun_and_dependents_stay() -> None:
    forms = {" ".join(s.text for s in f) for f in phrase_forms("Южный операционный центр")}
    assert "Южным операционным центром" in forms
    assert "Южными операционными центрами" in forms  # plural too
    assert "Южного операционный центр" not in forms
    forms = {" ".join(s.text for s in f) for f in phrase_forms("режим Асада")}
    assert forms >= {"режима Асада", "режимом Асада"}
    assert all(f.endswith("Асада") for f in forms)
