"""Reference-free QA: plain functions `(ru, en) -> list[Flag]`, one per failure an editor should
look at. The translate CLI hands `DEFAULT_CHECKS` to the pipeline, which stores the flags with
each translation; `ruen qa` runs them again over the archive.

Severity: `error` means the translation is almost surely wrong (Russian left in it, a number
changed, a decoding loop, nothing at all); `warning` means worth a look.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from corpus.types import Flag, Severity, TermStatus
from eval.numerals import (
    EN_MONTHS,
    EN_MULTIPLIER,
    EN_NUMERALS,
    EN_ORDINALS,
    RU_MONTHS,
    RU_NUMERALS,
    RU_ORDINALS,
    UNITS,
)

Check = Callable[[str, str], list[Flag]]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# ---------------------------------------------------------------- Cyrillic left in the English

CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+(?:[-'][\u0400-\u04ff]+)*")
SHOWN = 5  # words or numbers quoted in a message


def cyrillic(ru: str, en: str) -> list[Flag]:
    """Russian words copied into the English: the model did not know what to do with them."""
    words = CYRILLIC_WORD.findall(en)
    if not words:
        return []
    return [Flag("cyrillic", "error", f"Cyrillic left in the English: {_quote(words)}")]


# ---------------------------------------------------------------- empty output


def empty(ru: str, en: str) -> list[Flag]:
    """No translation at all for a sentence that has words."""
    if en.strip() or not re.search(r"\w", ru):
        return []
    return [Flag("empty", "error", "the translation is empty")]


# ---------------------------------------------------------------- numbers, dates and units

TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|[%°]")
RU_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})(?:[ \u00a0\u202f](\d{3}))+(?![\d.,]\d)")
RU_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})\b")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    value: float | None  # the number it is (or starts), else None


def _ru_number(text: str) -> float:
    # Russian: "10,5" is a decimal comma; "1.5" also occurs in news copied from English
    return float(text.replace(",", "."))


def _en_number(text: str) -> float:
    # English: "10,000" groups thousands; a comma followed by other than 3 digits is a list
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        return float(text.replace(",", ""))
    return float(text.split(",")[0]) if "," in text else float(text)


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3  # loads dictionaries (about 0.3 s): only when Russian numerals are read

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=20_000)
def _ru_numeral(word: str) -> int | None:
    if word in ("один", "одна", "одно"):
        return None
    # any numeral reading counts: the first parse of "сто" is an abbreviation (СТО)
    for parse in _morph().parse(word):
        if "NUMR" in parse.tag and parse.normal_form in RU_NUMERALS:
            return RU_NUMERALS[parse.normal_form]
        if "Anum" in parse.tag and parse.normal_form in RU_ORDINALS:
            return RU_ORDINALS[parse.normal_form]
    return None


@lru_cache(maxsize=256)  # the numbers and units checks read the same sentences
def _tokens(text: str, lang: str) -> tuple[str, tuple[_Token, ...]]:
    """The tokens of `text` with offsets into the returned text (Russian thousands joined)."""
    if lang == "ru":
        text = RU_THOUSANDS.sub(lambda m: m.group(0).replace(" ", "").replace("\u00a0", "")
                                .replace("\u202f", ""), text)
    tokens = []
    for m in TOKEN.finditer(text):
        word = m.group(0)
        value: float | None = None
        if word[0].isdigit():
            try:
                value = _ru_number(word) if lang == "ru" else _en_number(word)
            except ValueError:  # "1.2.3": a version or a list; its parts still count
                value = None
        elif lang == "ru":
            value = _ru_numeral(word.lower())
        else:
            value = EN_NUMERALS.get(word.lower(), EN_ORDINALS.get(word.lower()))
        tokens.append(_Token(word, m.start(), m.end(), value))
    return text, tuple(tokens)


def _written(token: _Token) -> bool:
    return not token.text[0].isdigit()


def numbers_in(text: str, lang: str) -> list[float]:
    """Every number in a sentence, digits and written numerals alike: `десяти` and `ten` are 10,
    `двадцать пять` and `twenty-five` 25, `two hundred` 200, `10 000` and `10,000` 10000. A
    date `05.12.2024` gives its day and year (its month is compared as a month)."""
    if lang == "ru":
        dates = [(int(d), int(y)) for d, _, y in RU_DATE.findall(text)]
        text = RU_DATE.sub(" ", text)
    else:
        dates = []
        text = re.sub(r"\band\b", " ", text)  # "one hundred and five"
    numbers: list[float] = [float(v) for date in dates for v in date]
    group: list[float] = []  # written numerals in a row make one number
    text, tokens = _tokens(text, lang)
    previous: _Token | None = None
    for token in tokens:
        joined = previous is not None and not text[previous.end:token.start].strip(" -")
        if token.value is None or not _written(token) or not joined:
            numbers += _combine(group)
            group = []
        if token.value is not None:
            if _written(token):
                group.append(token.value)
            else:
                numbers.append(token.value)
        previous = token if token.value is not None and _written(token) else None
    return numbers + _combine(group)


def _combine(values: list[float]) -> list[float]:
    """Written numerals in a row as numbers: twenty five -> 25, сто двадцать -> 120, two
    hundred -> 200; a value that does not fit ("five five") starts a new number."""
    numbers: list[float] = []
    for v in values:
        total = numbers[-1] if numbers else 0.0
        if v == EN_NUMERALS[EN_MULTIPLIER] and 0 < total < 10:
            numbers[-1] = total * v
        elif v < total and total % 10 ** len(str(int(v))) == 0:
            numbers[-1] = total + v
        else:
            numbers.append(v)
    return numbers


SCALES = (1e3, 1e6, 1e9)  # "5 тыс." is 5,000 and "2 million" is "2 млн"


def _unscaled(missing: Counter[float], extra: Counter[float]
              ) -> tuple[Counter[float], Counter[float]]:
    """Pair a number on one side with a thousand, million or billion times it on the other:
    scale words (тыс., млн, тысячи, million) are not numbers, so "5 тыс." reads as 5."""
    missing, extra = Counter(missing), Counter(extra)
    for small, large in ((missing, extra), (extra, missing)):
        for value in list(small.elements()):
            for scale in SCALES:
                if large[value * scale] > 0 and small[value] > 0:
                    small[value] -= 1
                    large[value * scale] -= 1
                    break
    return +missing, +extra


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def numbers(ru: str, en: str) -> list[Flag]:
    """The numbers of the source and the translation differ (as multisets)."""
    source, target = Counter(numbers_in(ru, "ru")), Counter(numbers_in(en, "en"))
    missing, extra = _unscaled(source - target, target - source)
    return _differ("numbers", "error", _quote([_fmt(v) for v in missing.elements()]),
                   _quote([_fmt(v) for v in extra.elements()]))


def _differ(check: str, severity: Severity, missing: str, extra: str) -> list[Flag]:
    """One flag naming what the English lacks and what it adds (nothing when both are empty)."""
    parts = [f"not in the English: {missing}"] if missing else []
    parts += [f"not in the Russian: {extra}"] if extra else []
    return [Flag(check, severity, f"{check} differ; " + "; ".join(parts))] if parts else []


@lru_cache(maxsize=2)
def _month_patterns(lang: str) -> list[tuple[int, re.Pattern[str]]]:
    if lang == "ru":  # matched in lower case
        return [(n, re.compile(rf"(?<!\w)(?:{form})(?!\w)")) for n, form in RU_MONTHS.items()]
    return [(n, re.compile(rf"\b(?:{form})(?!\w)")) for n, form in EN_MONTHS.items()]


def months_in(text: str, lang: str) -> set[int]:
    probe = text.lower() if lang == "ru" else text
    found = {n for n, pattern in _month_patterns(lang) if pattern.search(probe)}
    if lang == "ru":
        found |= {int(m) for _, m, _ in RU_DATE.findall(text) if 1 <= int(m) <= 12}
    return found


MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


def dates(ru: str, en: str) -> list[Flag]:
    """A month named in one language and not the other (`5 декабря` -> `November 5`)."""
    source, target = months_in(ru, "ru"), months_in(en, "en")
    if source == target:
        return []
    parts = []
    if source - target:
        parts.append(f"not in the English: {_months(source - target)}")
    if target - source:
        parts.append(f"not in the Russian: {_months(target - source)}")
    return [Flag("dates", "warning", "months differ; " + "; ".join(parts))]


def _months(numbers: set[int]) -> str:
    return ", ".join(MONTH_NAMES[m - 1] for m in sorted(numbers))


@lru_cache(maxsize=2)
def _unit_patterns(lang: str) -> list[tuple[str, re.Pattern[str]]]:
    side = 0 if lang == "ru" else 1
    return [(unit, re.compile(rf"(?:{forms[side]})")) for unit, forms in UNITS.items()]


def units_in(text: str, lang: str) -> Counter[str]:
    """Units written after a number (`10 километрах`, `ten kilometres`, `5%`, `155-мм`)."""
    if lang == "en":
        text = re.sub(r"\bper cent\b", "percent", text, flags=re.IGNORECASE)
    found: Counter[str] = Counter()
    text, tokens = _tokens(text, lang)
    for before, token in itertools.pairwise(tokens):
        if before.value is None:
            continue
        gap = text[before.end:token.start]
        if gap.strip(" \u00a0\u202f-") or len(gap) > 2:
            continue  # not right after the number
        word = token.text.lower()
        for unit, pattern in _unit_patterns(lang):
            if pattern.fullmatch(word):
                if len(word) == 1 and word.isalpha() and not gap:
                    break  # "5m": five million, not five metres
                found[unit] += 1
                break
    return found


def units(ru: str, en: str) -> list[Flag]:
    """A unit after a number in one language and not the other (`10 км` -> `10 miles`)."""
    source, target = units_in(ru, "ru"), units_in(en, "en")
    missing, extra = set(source) - set(target), set(target) - set(source)
    return _differ("units", "warning", ", ".join(sorted(missing)), ", ".join(sorted(extra)))


# ---------------------------------------------------------------- length ratio

LENGTH_MIN_CHARS = 20  # below this, a ratio says little ("Да." -> "Yes, that's right.")
LENGTH_RATIO_LOW = 0.6  # English is usually 0.8-1.2 times the Russian in characters
LENGTH_RATIO_HIGH = 1.8


def length_ratio(ru: str, en: str) -> list[Flag]:
    """The translation is far shorter (dropped clauses) or longer (hallucination) than usual."""
    source, target = len(ru.strip()), len(en.strip())
    if source < LENGTH_MIN_CHARS or not target:
        return []  # empty output has its own check
    ratio = target / source
    if LENGTH_RATIO_LOW <= ratio <= LENGTH_RATIO_HIGH:
        return []
    what = "short" if ratio < LENGTH_RATIO_LOW else "long"
    return [Flag("length-ratio", "warning",
                 f"the translation is {ratio:.2f} times the length of the source: too {what}")]


# ---------------------------------------------------------------- repeated n-gram loops

LOOP_MAX_N = 6  # longest repeated phrase looked for, in words
LOOP_MIN_REPEATS = 3  # "had had" is English; three times in a row is a decoding loop
WORD = re.compile(r"\w+")


def repeated_ngram(words: Sequence[str]) -> tuple[tuple[str, ...], int] | None:
    """The first phrase repeated LOOP_MIN_REPEATS times or more in a row, and how often."""
    for n in range(1, LOOP_MAX_N + 1):
        for i in range(len(words) - n * LOOP_MIN_REPEATS + 1):
            phrase = tuple(words[i:i + n])
            repeats = 1
            while tuple(words[i + repeats * n:i + (repeats + 1) * n]) == phrase:
                repeats += 1
            if repeats >= LOOP_MIN_REPEATS:
                return phrase, repeats
    return None


def repetition(ru: str, en: str) -> list[Flag]:
    """A decoding loop ("the city of the city of the city of"), Marian's failure on short or
    noisy input; unless the source repeats itself the same way."""
    found = repeated_ngram([w.lower() for w in WORD.findall(en)])
    if found is None:
        return []
    phrase, repeats = found
    source = repeated_ngram([w.lower() for w in WORD.findall(ru)])
    if source is not None and source[1] >= repeats:
        return []
    return [Flag("repetition", "error", f"“{' '.join(phrase)}” repeated {repeats} times")]


# ---------------------------------------------------------------- quotes and brackets

EN_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"), ("«", "»"), ("“", "”"))
RU_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"), ("«", "»"), ("„", "“"))


def unbalanced(text: str, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Bracket or quote kinds opened and closed a different number of times."""
    found = [f"{o}{c}" for o, c in pairs if text.count(o) != text.count(c)]
    if text.count('"') % 2:
        found.append('""')
    return found


def brackets(ru: str, en: str) -> list[Flag]:
    """Quotes or brackets left open in the English, though balanced in the Russian (a sentence
    split inside a quotation is not the translation's fault)."""
    if unbalanced(ru, RU_PAIRS):
        return []
    kinds = unbalanced(en, EN_PAIRS)
    if not kinds:
        return []
    return [Flag("brackets", "warning", f"unbalanced in the English: {' '.join(kinds)}")]


# ---------------------------------------------------------------- glossary


def glossary_missing(terms: Iterable[TermStatus]) -> list[Flag]:
    """Glossary terms of the source whose English is not in the translation (the pipeline makes
    the same flags at translation time)."""
    return [Flag("glossary-missing", "warning", f"«{t.ru}» should be “{t.en}”")
            for t in terms if t.status == "missing"]


# ---------------------------------------------------------------- running them

CHECKS: dict[str, Check] = {
    "empty": empty, "cyrillic": cyrillic, "numbers": numbers, "dates": dates, "units": units,
    "length-ratio": length_ratio, "repetition": repetition, "brackets": brackets,
}
DEFAULT_CHECKS: tuple[Check, ...] = tuple(CHECKS.values())
# Not a (Russian, English) function: it needs the glossary's term statuses (eval.review).
GLOSSARY_CHECK = "glossary-missing"
CHECK_NAMES = (*CHECKS, GLOSSARY_CHECK)  # what `ruen qa --check` can select


def run_checks(ru: str, en: str, checks: Iterable[Check] = DEFAULT_CHECKS) -> list[Flag]:
    flags: list[Flag] = []
    for check in checks:
        flags += check(ru, en)
    return flags


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _quote(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
