"""Abbreviations that razdel does not know, or knows but treats wrongly, in Russian news text.

Data only; the rules that use these sets are in `translate.segment`. Entries are lower case and
without the final period. razdel's own lists (razdel/segmenters/sokr.py) cover the common ones
(т.е., т.д., г., ул., им., ст., р., тыс., млн, initials); these add what news text needs on top.
"""

from __future__ import annotations


def _words(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


# Abbreviations that stand before a name or a number and so never end a sentence, even when a
# capital letter follows: "ген. Иванов", "пров. Хомс", "Вост. Гута", "табл. 5". razdel splits after
# each of these. Words that are also ordinary Russian words are left out on purpose ("полк" is a
# regiment, "тур" a round, "рук" of hands): after them a capital letter more often starts a new
# sentence.
HEAD = _words(
    # ranks and titles
    "ген лейт подп подполк кап адм серж ефр мл",
    "доц засл пред председ секр дир",
    # places
    "пров респ мкр наб бул дер пгт",
    "сев юж зап вост бл",  # Сев. Корея, Юж. Корея, Зап. берег, Вост. Гута, Бл. Восток
    # references
    "табл илл",
    # year and century ranges, like razdel's own "г." and "в.": "В 2011-2024 гг. Сирия ..."
    "гг вв",
)

# Units and counting words after a number ("км", "млн", "тыс.", "руб."): razdel joins when a
# lower-case word or a number follows ("в 10 км. от города", "5 млн. руб.") and ends the sentence
# when a capital letter follows ("составили 5 млн. Это много"); that is right, so there is no
# list for them here. Likewise "г.", "ул.", "им.", "ст.", "р.", "т.е.", "т.д.", "т.п.",
# "т.ч." and initials ("А. С. Пушкин", "В.В. Путин") are razdel's own and never end a sentence
# unless razdel's own rules say so ("т.д." + capital letter is a sentence end).
