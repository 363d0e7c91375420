"""Each reference-free check on sentences where it must fire and where it must stay quiet."""

from __future__ import annotations

import pytest

from eval import qa

# (check, ru, en, expected flag or None, why)
CASES = [
    # ---- Cyrillic left in the English
    (qa.cyrillic, "Бои у Хамы.", "Fighting near Хама.", "Хама", "a name copied in Cyrillic"),
    (qa.cyrillic, "Он сказал «нет».", "He said «нет».", "нет", "a quoted word"),
    (qa.cyrillic, "Бои у Хамы.", "Fighting near Hama.", None, "transliterated"),
    (qa.cyrillic, "Привет.", "Hello — «hi».", None, "quotes and dashes are not Cyrillic"),
    # ---- empty output
    (qa.empty, "Бои у Хамы.", "", "empty", "nothing"),
    (qa.empty, "Бои у Хамы.", "  \n", "empty", "only whitespace"),
    (qa.empty, "—", "", None, "a source with no words"),
    (qa.empty, "Бои.", "Fighting.", None, "translated"),
    # ---- numbers, digits and written
    (qa.numbers, "Силы в 10 километрах от города.", "The forces are 12 kilometres from the city.",
     "10", "a digit changed"),
    (qa.numbers, "Погибли 5 человек.", "People died.", "5", "a number dropped"),
    (qa.numbers, "Погибли люди.", "Five people died.", "5", "a number invented"),
    (qa.numbers, "Силы в десяти километрах.", "The forces are 11 km away.", "10",
     "a written numeral (genitive) against a different digit"),
    (qa.numbers, "Силы в 10 километрах от города.", "The forces are 10 kilometers from the city.",
     None, "10 километрах -> 10 kilometers"),
    (qa.numbers, "Силы в десяти километрах.", "The forces are ten kilometres away.", None,
     "десяти -> ten"),
    (qa.numbers, "Силы в десяти километрах.", "The forces are 10 km away.", None,
     "десяти -> 10"),
    (qa.numbers, "Прибыли двадцать пять машин.", "Twenty-five vehicles arrived.", None,
     "compound numerals on both sides"),
    (qa.numbers, "Сто двадцать пять бойцов.", "125 fighters.", None, "сто двадцать пять"),
    (qa.numbers, "Двое бойцов ранены.", "Two fighters were wounded.", None,
     "a collective numeral"),
    (qa.numbers, "Эвакуированы 10 000 человек.", "10,000 people were evacuated.", None,
     "thousands grouped with a space and with a comma"),
    (qa.numbers, "Рост на 2,5 процента.", "A rise of 2.5 percent.", None, "decimal comma"),
    (qa.numbers, "Это произошло 05.12.2024.", "It happened on December 5, 2024.", None,
     "a numeric date against a written one"),
    (qa.numbers, "Один из бойцов погиб.", "One of the fighters died.", None,
     "'one' is left out: often a pronoun"),
    (qa.numbers, "Одна деревня сожжена.", "A village was burned.", None, "один -> a"),
    (qa.numbers, "Двести человек.", "Two hundred people.", None, "двести -> two hundred"),
    (qa.numbers, "Бежали 5 тыс. человек.", "5,000 people fled.", None,
     "a scale abbreviation against the full number"),
    (qa.numbers, "Бежали две тысячи человек.", "2000 people fled.", None, "две тысячи -> 2000"),
    (qa.numbers, "Ущерб 2 млн долларов.", "Damage of $2,000,000.", None, "млн"),
    (qa.numbers, "Бежали 5 тыс. человек.", "6,000 people fled.", "5",
     "a scaled number that differs"),
    (qa.numbers, "Четвёртая дивизия наступает.", "The 4th Division advances.", None,
     "a written ordinal against a digit one"),
    (qa.numbers, "4-я бригада и двадцать пятый полк.", "The fourth brigade and the 25th regiment.",
     None, "ordinals both ways, compound included"),
    (qa.numbers, "Четвёртая дивизия наступает.", "The 5th Division advances.", "4",
     "an ordinal changed"),
    (qa.numbers, "Впервые за годы.", "For the first time in years.", None, "first is left out"),
    # ---- dates (months)
    (qa.dates, "Наступление началось 5 декабря.", "The offensive began on November 5.",
     "December", "a month changed"),
    (qa.dates, "Наступление началось в мае.", "The offensive began in the spring.", "May",
     "a month dropped"),
    (qa.dates, "Наступление началось 5 декабря.", "The offensive began on December 5.", None,
     "the same month"),
    (qa.dates, "Это может случиться.", "It may happen.", None, "the verb may is not a month"),
    (qa.dates, "Встреча 05.12.2024.", "The meeting on 5 December 2024.", None,
     "a numeric date names its month"),
    # ---- units
    (qa.units, "Силы в 10 километрах от города.", "The forces are 10 miles from the city.", "km",
     "kilometres became miles"),
    (qa.units, "Рост на 5%.", "A rise of 5 points.", "%", "a percent dropped"),
    (qa.units, "Силы в 10 километрах от города.", "The forces are 10 kilometers from the city.",
     None, "10 километрах -> 10 kilometers"),
    (qa.units, "Рост на 5 процентов.", "A rise of 5 per cent.", None, "per cent, two words"),
    (qa.units, "Удар 155-мм снарядами.", "A strike with 155mm shells.", None, "a calibre"),
    (qa.units, "Ущерб 5 млн долларов.", "Damage of $5m.", None, "5m is five million, not metres"),
    # ---- length ratio
    (qa.length_ratio,
     "Командование опровергло сообщения о потерях среди гражданского населения.",
     "The command denied.", "short", "half the sentence dropped"),
    (qa.length_ratio, "Бои продолжаются в городе.",
     "Fighting continues in the city, and the forces say that they will keep fighting for "
     "many more weeks to come in every district.", "long", "a hallucinated tail"),
    (qa.length_ratio,
     "Командование опровергло сообщения о потерях среди гражданского населения.",
     "The command denied reports of civilian casualties.", None, "a normal ratio"),
    (qa.length_ratio, "Да.", "Yes, that is right.", None, "too short to judge"),
    # ---- repeated n-gram loops
    (qa.repetition, "Город освобожден.", "The city the city the city the city is liberated.",
     "the city", "a bigram loop"),
    (qa.repetition, "Нет.", "No no no no no no", "no", "a unigram loop"),
    (qa.repetition, "Город освобожден.", "The city has been liberated.", None, "no loop"),
    (qa.repetition, "Он сказал, что это так.", "He said that that was so.", None,
     "'that that' twice is English"),
    (qa.repetition, "Нет, нет, нет!", "No, no, no!", None, "the source repeats itself too"),
    # ---- quotes and brackets
    (qa.brackets, "Силы (СДС) наступают.", "The forces (SDF advance.", "()",
     "a parenthesis left open"),
    (qa.brackets, "Он назвал это «победой».", "He called it “victory.", "“”",
     "a quote left open"),
    (qa.brackets, 'Он назвал это «победой».', 'He called it "victory.', '""',
     "an odd number of straight quotes"),
    (qa.brackets, "Силы (СДС) наступают.", "The forces (SDF) advance.", None, "balanced"),
    (qa.brackets, "«Мы наступаем,", "“We are advancing,", None,
     "the source itself is cut inside a quotation"),
]


@pytest.mark.parametrize(("check", "ru", "en", "expected", "why"), CASES,
                         ids=[f"{c[0].__name__}-{c[4]}" for c in CASES])
def test_check(check, ru: str, en: str, expected: str | None, why: str) -> None:
    flags = check(ru, en)
    if expected is None:
        assert flags == [], why
    else:
        assert len(flags) == 1, why
        assert expected in flags[0].message, (why, flags[0].message)
        assert flags[0].check in qa.CHECKS


def test_numbers_message_names_both_sides() -> None:
    [flag] = qa.numbers("Погибли 5 человек, ранены 7.", "5 people died and 9 were wounded.")
    assert flag.severity == "error"
    assert "not in the English: 7" in flag.message and "not in the Russian: 9" in flag.message


@pytest.mark.parametrize(("text", "lang", "values"), [
    ("в десяти километрах, 10 000 человек, 2,5 млн", "ru", [10, 10000, 2.5]),
    ("сто двадцать пять и двадцать пять", "ru", [125, 25]),
    ("ten kilometres, 10,000 people, 2.5 million", "en", [10, 10000, 2.5]),
    ("twenty-five, two hundred and five", "en", [25, 205]),  # a comma ends a number
    ("five five", "en", [5, 5]),  # a numeral that does not fit starts a new number
])
def test_numbers_in(text: str, lang: str, values: list[float]) -> None:
    assert qa.numbers_in(text, lang) == values


def test_a_clean_translation_has_no_flags() -> None:
    ru = "Силы демократической Сирии (СДС) заявили, что удерживают 3 позиции к востоку от Евфрата."
    en = "The Syrian Democratic Forces (SDF) said they hold 3 positions east of the Euphrates."
    assert qa.run_checks(ru, en) == []


def test_glossary_missing_turns_statuses_into_flags() -> None:
    from corpus.types import TermStatus

    flags = qa.glossary_missing([TermStatus("Хама", "Hama", "missing"),
                                 TermStatus("ХТШ", "HTS", "ok")])
    assert [(f.check, f.severity) for f in flags] == [("glossary-missing", "warning")]
    assert "Hama" in flags[0].message
