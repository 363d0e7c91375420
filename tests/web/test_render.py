"""Archive text as HTML (web.render): everything escaped, only ruen's own tags are markup,
marks at the right characters whatever the text holds."""

from __future__ import annotations

import pytest

from corpus.review import ReviewSentence
from corpus.types import TermStatus
from web.render import Mark, highlighted, marked, term_marks, terms_of


@pytest.mark.parametrize(("text", "spans", "html"), [
    ("Город Хама освобождён.", [(6, 10)], "Город <mark>Хама</mark> освобождён."),
    # markup in the text stays text, also inside a mark
    ("<b>Хомс</b> & «Хама»", [(3, 7)], "&lt;b&gt;<mark>Хомс</mark>&lt;/b&gt; &amp; «Хама»"),
    ('"><img src=x onerror=alert(1)>', [(0, 2)],
     "<mark>&#34;&gt;</mark>&lt;img src=x onerror=alert(1)&gt;"),
    # a span past the end, an empty one and an overlapping one are left out
    ("Хама", [(0, 4), (2, 3), (3, 3), (2, 9)], "<mark>Хама</mark>"),
    ("Хама и Хомс", [(7, 11), (0, 4)], "<mark>Хама</mark> и <mark>Хомс</mark>"),
])
def test_highlighted(text, spans, html) -> None:
    assert str(highlighted(text, spans)) == html


def test_a_title_with_quotes_cannot_leave_its_attribute() -> None:
    html = str(marked("Хама", [Mark(0, 4, "span", "term term-ok", 'x" onmouseover="1')]))
    assert html == ('<span class="term term-ok" title="x&#34; onmouseover=&#34;1">Хама</span>')


def _sentence(en: str, status: str, inherited: bool) -> ReviewSentence:
    ru = "Бойцы вошли в Хаму с севера."
    return ReviewSentence(doc=1, index=0, paragraph=0, ru=ru, en=en, kind="mt", origin="mt",
                          version=1, terms=(TermStatus("Хаму", "Hama", status, 14, 18),),
                          terms_inherited=inherited)


def test_terms_are_marked_on_both_sides() -> None:
    views = terms_of(_sentence("The fighters entered Hama from the north.", "enforced", False))
    assert [(v.status, v.ru_span, v.en_span) for v in views] == [("enforced", (14, 18),
                                                                   (21, 25))]
    assert [(m.start, m.end, m.classes) for m in term_marks(views, "en")] == [
        (21, 25, "term term-enforced")]


def test_a_post_edit_is_checked_again_for_its_terms() -> None:
    # the machine translation missed Hama; the post-edit has it: ok now
    fixed = terms_of(_sentence("Fighters entered Hama from the north.", "missing", True))
    assert [(v.status, v.en_span) for v in fixed] == [("ok", (17, 21))]
    # and the other way round: a post-edit that lost the name is missing it
    lost = terms_of(_sentence("Fighters entered the city from the north.", "ok", True))
    assert [(v.status, v.en_span) for v in lost] == [("missing", None)]
    assert term_marks(lost, "en") == [] and len(term_marks(lost, "ru")) == 1
