"""Every Russian case and number form of a glossary term, as sequences of word slots.

Common words (`Командование военных операций`, `Южный операционный центр`, `режим Асада`) are
inflected with pymorphy3: the head noun takes every case and number, the adjectives before it
agree, and the words after it (genitive dependents) stay as written. pymorphy3 does not know
most Syrian place and person names (it reads `Хама` as a form of `хам`), so capitalised names
are declined by the rules of `decline_name`, which follow the Russian declension of foreign
names by their final letter. Abbreviations (`КВО`) are indeclinable in practice, but case
endings are sometimes attached (`ЮОЦа`, `ЮОЦ-а`); quoted words (`«Сдерживание агрессии»`) and
Arabic particles (`аль`, `эз`) never change.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from corpus.lemma import analyzer, fold

Rule = Literal["any", "cap", "exact"]

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
NUMBERS = ("sing", "plur")
#: pymorphy3's extra cases folded into the six: `в лесу` (loc2), `чаю` (gen2).
_CASE_OF = {"loc2": "loct", "gen2": "gent", "acc2": "accs"}
#: Arabic articles and name particles, written lowercase or capitalised, hyphenated or not.
PARTICLES = frozenset({"аль", "ал", "эль", "ас", "аш", "ад", "ар", "ат", "ан", "аз", "эз", "эш",
                       "эд", "эр", "эс", "ибн", "бин", "бен", "уль", "ур", "ус"})
#: Case endings sometimes attached to an abbreviation (`ЮОЦа`, `ЮОЦом`, `СДС-ам`).
ABBR_ENDINGS = ("", "а", "у", "ом", "е", "ы", "ой", "и", "ем", "ов", "ам", "ами", "ах")
OPEN_QUOTES = "«„“\"‘'"
CLOSE_QUOTES = "»“”\"’'"
WORD = re.compile(r"[^\W_]+")
_SIBILANT = "жшчщц"
_VELAR_SIBILANT = "гкхжшчщ"
_PROPER_TAGS = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}


@dataclass(frozen=True)
class Slot:
    """One word of a form: `text` compared case folded, ё=е; `rule` adds what capitalisation
    must be: any, a capital first letter (proper names), or exactly as written (abbreviations)."""

    text: str
    rule: Rule = "any"

    def accepts(self, word: str) -> bool:
        if fold(word) != fold(self.text):
            return False
        if self.rule == "cap":
            return word[0].isupper()
        if self.rule == "exact":
            return word == self.text
        return True


Form = tuple[Slot, ...]


def is_abbreviation(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


# ---------------------------------------------------------------- proper names (rules)


def decline_name(word: str) -> dict[str, set[str]]:
    """Singular case forms of a foreign proper name, by its final letter.

    Consonant: Хомс, Хомса, Хомсу, Хомсом, Хомсе (-ем after ж ш ч щ ц as well: Манбиджем);
    -а: Хама, Хамы, Хаме, Хаму, Хамой (-и after г к х and sibilants: Тальбисы but Бурки);
    -ия: Гария, Гарии, Гарию, Гарией; -я: -и, -е, -ю, -ей; -ь: both genders (Фуля/Фули);
    -й: -я, -ю, -ем, -е; any other vowel or a double vowel (Алеппо, Гани, Дараа): indeclinable.
    The accusative of a person is the genitive, of a place the nominative: both are kept.
    """
    forms = {case: {word} for case in CASES}
    low = word.lower()
    last = low[-1]

    def add(case: str, *endings: str, stem: str = word) -> None:
        forms[case].update(stem + e for e in endings)

    if len(low) >= 2 and last == "а" and low[-2] in "аеёиоуыэюя":
        return forms  # Дараа: a vowel before the final -а keeps the name indeclinable
    if last == "а":
        stem = word[:-1]
        add("gent", "и" if stem[-1:].lower() in _VELAR_SIBILANT else "ы", stem=stem)
        add("datv", "е", stem=stem)
        add("loct", "е", stem=stem)
        add("accs", "у", stem=stem)
        add("ablt", "ой", "ою", *(("ей",) if stem[-1:].lower() in _SIBILANT else ()), stem=stem)
    elif last == "я":
        stem = word[:-1]
        soft = "и" if low.endswith("ия") else "е"
        add("gent", "и", stem=stem)
        add("datv", soft, stem=stem)
        add("loct", soft, stem=stem)
        add("accs", "ю", stem=stem)
        add("ablt", "ей", "ею", stem=stem)
    elif last == "ь":
        stem = word[:-1]
        add("gent", "я", "и", stem=stem)
        add("datv", "ю", "и", stem=stem)
        add("loct", "е", "и", stem=stem)
        add("accs", "я", stem=stem)
        add("ablt", "ем", stem=stem)
        add("ablt", "ю")
    elif last == "й":
        stem = word[:-1]
        add("gent", "я", stem=stem)
        add("datv", "ю", stem=stem)
        add("loct", "е", stem=stem)
        add("accs", "я", stem=stem)
        add("ablt", "ем", stem=stem)
    elif last.isalpha() and last not in "аеёиоуыэюя" and re.fullmatch(r"[а-яё]+", low):
        add("gent", "а")
        add("datv", "у")
        add("loct", "е")
        add("accs", "а")
        add("ablt", "ем" if last in _SIBILANT else "ом")
        if last in _SIBILANT:
            add("ablt", "ом")  # stressed ending: Манбиджом is written too
    return forms


# ---------------------------------------------------------------- common words (pymorphy3)


@lru_cache(maxsize=4096)
def _nominative_parse(word: str):  # type: ignore[no-untyped-def]
    """A dictionary reading of `word` as a nominative noun or adjective, or None."""
    for parse in analyzer().parse(word.lower()):
        tag = parse.tag
        if (parse.is_known and tag.case == "nomn" and tag.POS in ("NOUN", "ADJF", "PRTF")
                and not (_PROPER_TAGS & tag.grammemes)):
            return parse
    return None


def _lexeme_forms(parse, case: str, number: str, gender: str | None = None,  # type: ignore[no-untyped-def]
                  animacy: str | None = None) -> set[str]:
    found = set()
    for form in parse.lexeme:
        tag = form.tag
        if _CASE_OF.get(tag.case, tag.case) != case or tag.number != number:
            continue
        if gender and number == "sing" and tag.gender and tag.gender != gender:
            continue
        if animacy and tag.animacy and tag.animacy != animacy:
            continue  # the accusative of an adjective follows its noun: `Южный центр`
        found.add(form.word)
    return found


def _match_case(word: str, inflected: str) -> str:
    return inflected.capitalize() if word[0].isupper() else inflected


# ---------------------------------------------------------------- phrases


@dataclass(frozen=True)
class _Token:
    word: str
    kind: Literal["abbr", "particle", "fixed", "noun", "adj", "name"]


def _words(ru: str) -> list[tuple[str, bool]]:
    """The words of a term, each with whether it stands inside quotes."""
    words, depth, last = [], 0, 0
    for match in WORD.finditer(ru):
        between = ru[last:match.start()]
        for char in between:
            if char in OPEN_QUOTES and (char not in CLOSE_QUOTES or depth == 0):
                depth += 1
            elif char in CLOSE_QUOTES and depth:
                depth -= 1
        words.append((match.group(), depth > 0))
        last = match.end()
    return words


def _classify(words: list[tuple[str, bool]]) -> list[_Token]:
    tokens = []
    for i, (word, quoted) in enumerate(words):
        if quoted:
            kind = "fixed"
        elif is_abbreviation(word):
            kind = "abbr"
        elif word.lower() in PARTICLES:
            kind = "particle"
        else:
            # A capital letter means a name, unless it only starts a phrase of common words
            # (`Командование военных операций`, `Южный операционный центр`).
            common = word[0].islower() or (i == 0 and any(
                w[0].islower() and w.lower() not in PARTICLES for w, _ in words[1:]))
            if not common:
                kind = "name"
            else:
                parse = _nominative_parse(word)
                kind = "fixed" if parse is None else ("noun" if parse.tag.POS == "NOUN"
                                                      else "adj")
        tokens.append(_Token(word, kind))  # type: ignore[arg-type]
    return tokens


def _slot_rule(token: _Token, case_sensitive: bool) -> Rule:
    if not case_sensitive:
        return "any"
    if token.kind == "abbr":
        return "exact"
    # A capital in the glossary marks a name (`Четвёртая дивизия`, the unit): the text must
    # have it too, so that a generic `четвёртая дивизия` is not the unit. Particles vary.
    if token.kind != "particle" and token.word[0].isupper():
        return "cap"
    return "any"


def phrase_forms(ru: str, *, case_sensitive: bool = True) -> set[Form]:
    """Every form of the term `ru` (written in the nominative) as a sequence of slots."""
    tokens = _classify(_words(ru))
    if not tokens:
        return set()
    rules = [_slot_rule(t, case_sensitive) for t in tokens]
    if len(tokens) == 1 and tokens[0].kind == "abbr":
        return {(Slot(tokens[0].word + ending, rules[0]),) for ending in ABBR_ENDINGS}

    head = next((i for i, t in enumerate(tokens) if t.kind in ("noun", "name")), None)
    options: list[list[set[str]]] = []  # per inflection key, per token: accepted words
    if head is None:
        options.append([{t.word} for t in tokens])
    elif tokens[head].kind == "noun":
        parse = _nominative_parse(tokens[head].word)
        gender, animacy = parse.tag.gender, parse.tag.animacy
        numbers = [parse.tag.number or "sing"]
        if not ({"Sgtm", "Pltm"} & parse.tag.grammemes):
            numbers += [n for n in NUMBERS if n not in numbers]
        for case, number in itertools.product(CASES, numbers):
            per_token = []
            for i, token in enumerate(tokens):
                if i == head:
                    found = _lexeme_forms(parse, case, number, None)
                elif i < head and token.kind == "adj":
                    found = _lexeme_forms(_nominative_parse(token.word), case, number, gender,
                                          animacy)
                else:
                    found = {token.word}
                per_token.append({_match_case(token.word, w) for w in found} or {token.word})
            options.append(per_token)
    else:
        declined = {i: decline_name(t.word) for i, t in enumerate(tokens)
                    if i >= head and t.kind == "name"}
        for case in CASES:
            options.append([declined[i][case] if i in declined else {t.word}
                            for i, t in enumerate(tokens)])

    forms: set[Form] = set()
    for per_token in options:
        for words in itertools.product(*per_token):
            forms.add(tuple(Slot(w, r) for w, r in zip(words, rules, strict=True)))
    return forms
