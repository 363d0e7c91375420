"""Data for the QA checks: written numerals, months and units in Russian and English.

"One"/"один" are left out on purpose: both are as often a pronoun or an article ("один из",
"one of") as a number, and an English "a" stands for them just as often. Scale words (тысяча,
million...) are left out too, because "2 млн" and "2 million" carry the number in the digit.
"""

from __future__ import annotations

RU_NUMERALS: dict[str, int] = {  # lemmas, as pymorphy3 gives them
    "ноль": 0, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8,
    "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13,
    "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40,
    "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
    # collective numerals: "двое бойцов" is "two fighters"
    "двое": 2, "трое": 3, "четверо": 4, "пятеро": 5, "шестеро": 6, "семеро": 7, "восьмеро": 8,
    "девятеро": 9, "десятеро": 10,
}

EN_NUMERALS: dict[str, int] = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100,
}
# Ordinals count as their number ("Четвёртая дивизия" is "the 4th Division", "4-я" is 4);
# "первый"/"first" are left out like "one" ("впервые" is "for the first time").
RU_ORDINALS: dict[str, int] = {
    "второй": 2, "третий": 3, "четвёртый": 4, "четвертый": 4, "пятый": 5, "шестой": 6,
    "седьмой": 7, "восьмой": 8, "девятый": 9, "десятый": 10, "одиннадцатый": 11,
    "двенадцатый": 12, "тринадцатый": 13, "четырнадцатый": 14, "пятнадцатый": 15,
    "шестнадцатый": 16, "семнадцатый": 17, "восемнадцатый": 18, "девятнадцатый": 19,
    "двадцатый": 20, "тридцатый": 30, "сороковой": 40, "пятидесятый": 50, "сотый": 100,
}
EN_ORDINALS: dict[str, int] = {
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "hundredth": 100,
}
EN_MULTIPLIER = "hundred"  # "two hundred" is 200, where Russian has one word (двести)

# Month number -> regular expression for its forms (Russian: lower-cased text; English:
# capitalised, so that the verb "may" is not taken for the month).
RU_MONTHS: dict[int, str] = {
    1: r"январ[ьяеюё]\w*", 2: r"феврал[ьяеюё]\w*", 3: r"март(?:а|е|у|ом)?", 4: r"апрел[ьяеюё]\w*",
    5: r"ма[йяею]", 6: r"июн[ьяеюё]\w*", 7: r"июл[ьяеюё]\w*", 8: r"август(?:а|е|у|ом)?",
    9: r"сентябр[ьяеюё]\w*", 10: r"октябр[ьяеюё]\w*", 11: r"ноябр[ьяеюё]\w*",
    12: r"декабр[ьяеюё]\w*",
}
EN_MONTHS: dict[int, str] = {
    1: r"January|Jan\.", 2: r"February|Feb\.", 3: r"March|Mar\.", 4: r"April|Apr\.", 5: r"May",
    6: r"June|Jun\.", 7: r"July|Jul\.", 8: r"August|Aug\.", 9: r"September|Sept?\.",
    10: r"October|Oct\.", 11: r"November|Nov\.", 12: r"December|Dec\.",
}

# Canonical unit -> (Russian forms, English forms), matched on whole lower-cased tokens that
# follow a number. Units of one letter must be separated from the number ("5 m", not "5m",
# which in English news is five million).
UNITS: dict[str, tuple[str, str]] = {
    "km": (r"км|километр\w*", r"km|kilomet(?:er|re)s?"),
    "m": (r"м|метр\w*", r"m|met(?:er|re)s?"),
    "cm": (r"см|сантиметр\w*", r"cm|centimet(?:er|re)s?"),
    "mm": (r"мм|миллиметр\w*", r"mm|millimet(?:er|re)s?"),
    "mile": (r"мил[ьяие]\w*", r"miles?"),
    "kg": (r"кг|килограмм\w*", r"kg|kilograms?|kilos?"),
    "t": (r"т|тонн\w*", r"t|tons?|tonnes?"),
    "l": (r"л|литр\w*", r"l|lit(?:er|re)s?"),
    "ha": (r"га|гектар\w*", r"ha|hectares?"),
    "%": (r"%|процент\w*", r"%|percent"),
    "°": (r"°|градус\w*", r"°|degrees?"),
}
