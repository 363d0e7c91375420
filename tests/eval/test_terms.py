"""Term exact-match accuracy and consistency, on a glossary written here."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from eval.terms import OTHER, term_report


@dataclass(frozen=True)
class Entry:
    ru: str
    en: str
    variants: tuple[str, ...] = ()
    case_sensitive: bool = True


@dataclass(frozen=True)
class Match:
    entry: Entry
    start: int
    end: int
    surface: str


class FakeGlossary:
    """The `match(ru)` interface of translate.glossary.Glossary, by regular expressions."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = entries

    def match(self, ru: str) -> list[Match]:
        return [Match(entry, m.start(), m.end(), m.group(0))
                for pattern, entry in self.entries.items() for m in re.finditer(pattern, ru)]


HAMA = Entry("Хама", "Hama", variants=("Hamah", "Khama"))
HTS = Entry("ХТШ", "HTS")
GLOSSARY = FakeGlossary({r"Хам[аеуы]": HAMA, r"ХТШ": HTS})


def test_accuracy_counts_each_source_term() -> None:
    report = term_report(
        ["ХТШ вошла в Хаму.", "Бои у Хамы.", "ХТШ и ХТШ."],
        ["HTS entered Hama.", "Fighting near Hamah.", "HTS and the group."],
        GLOSSARY)
    # 5 term occurrences; found: HTS, Hama, (not Hamah), HTS once of twice
    assert (report.occurrences, report.hits) == (5, 3)
    assert report.accuracy == pytest.approx(60.0)


def test_consistency_counts_distinct_renderings() -> None:
    report = term_report(
        ["Бои у Хамы.", "Хама взята.", "Вокруг Хамы.", "ХТШ наступает.", "ХТШ наступает."],
        ["Fighting near Hama.", "Khama taken.", "Around the city.", "HTS advances.",
         "HTS advances."],
        GLOSSARY)
    rows = {r.en: r for r in report.rows}
    assert dict(rows["Hama"].renderings) == {"Hama": 1, "Khama": 1, OTHER: 1}
    assert rows["Hama"].sources == {"Хамы": 2, "Хама": 1}
    assert rows["HTS"].consistent and not rows["Hama"].consistent
    assert report.consistency == pytest.approx(50.0)  # one of the two repeated terms
    assert [r.en for r in report.inconsistent] == ["Hama"]


@pytest.mark.parametrize(("en", "found"), [
    ("Fighting near Hama.", True),
    ("Fighting near Hamadan.", False),  # whole words only
    ("Fighting near HAMA.", False),  # case-sensitive entry
])
def test_target_must_appear_as_a_word(en: str, found: bool) -> None:
    assert term_report(["Бои у Хамы."], [en], GLOSSARY).hits == int(found)


def test_no_terms_gives_no_accuracy() -> None:
    report = term_report(["Бои продолжаются."], ["Fighting goes on."], GLOSSARY)
    assert report.accuracy is None and report.consistency is None
    assert report.as_json()["accuracy"] is None


def test_with_the_shipped_glossary() -> None:
    from translate.glossary import load_glossary

    report = term_report(
        ["ХТШ взяла под контроль аэропорт.", "Бойцы ХТШ вошли в город."],
        ["HTS took control of the airport.", "KhTSh fighters entered the city."],
        load_glossary())
    [row] = [r for r in report.rows if r.en == "HTS"]
    assert (row.occurrences, row.hits) == (2, 1)
    assert dict(row.renderings) == {"HTS": 1, "KhTSh": 1}  # a known wrong variant, named
