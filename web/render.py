"""Archive text as HTML: escaped, with search matches and glossary terms marked. Every piece of
text goes through `escape`; only the tags written here are markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from corpus.review import ReviewSentence
from translate.glossary.verify import find


@dataclass(frozen=True)
class Mark:
    start: int
    end: int
    tag: str  # "mark" or "span"
    classes: str = ""
    title: str = ""


def marked(text: str, marks: Iterable[Mark]) -> Markup:
    """`text` escaped, each mark wrapped in its tag; overlapping marks after the first are
    dropped (a term inside a term)."""
    # built as plain strings and made Markup once: Markup's own + and join escape-check every
    # piece, which was most of a search page's 40 highlighted texts (about 1 ms)
    out: list[str] = []
    position = 0
    for m in sorted(marks, key=lambda m: (m.start, -m.end)):
        if m.start < position or m.end <= m.start or m.end > len(text):
            continue
        attributes = ""
        if m.classes:
            attributes += f' class="{escape(m.classes)}"'
        if m.title:
            attributes += f' title="{escape(m.title)}"'
        out.append(escape(text[position:m.start]))
        out.append(f"<{m.tag}{attributes}>{escape(text[m.start:m.end])}</{m.tag}>")
        position = m.end
    out.append(escape(text[position:]))
    return Markup("".join(out))


def highlighted(text: str, spans: Sequence[tuple[int, int]]) -> Markup:
    """Search matches as <mark>."""
    return marked(text, (Mark(s, e, "mark") for s, e in spans))


@dataclass(frozen=True)
class TermView:
    ru: str
    en: str
    status: str  # ok | enforced | missing
    ru_span: tuple[int, int] | None
    en_span: tuple[int, int] | None


def terms_of(sentence: ReviewSentence) -> list[TermView]:
    """Each glossary term of a sentence with where it stands on both sides. Statuses stored with
    an earlier machine translation (a post-edit stores none) are checked again on the English
    shown: `ok` when the target is there, else `missing`."""
    views = []
    for term in sentence.terms:
        found = find(sentence.en, term.en) if sentence.en else None
        status = term.status
        if sentence.terms_inherited:
            status = "ok" if found else "missing"
        ru_span = (term.start, term.end) if 0 <= term.start < term.end <= len(sentence.ru) \
            else None
        views.append(TermView(term.ru, term.en, status, ru_span,
                              found.span() if found else None))
    return views


def term_marks(views: Sequence[TermView], side: str) -> list[Mark]:
    marks = []
    for v in views:
        span = v.ru_span if side == "ru" else v.en_span
        if span is not None:
            marks.append(Mark(*span, "span", f"term term-{v.status}",
                              f"glossary: {v.ru} → {v.en} ({v.status})"))
    return marks


def marks_json(sentence: ReviewSentence) -> dict[str, list[dict[str, object]]]:
    """Where the page marks each glossary term, for scripts and for the page's own script to
    mark a just-saved translation: `{"ru_marks": [...], "en_marks": [...]}`, each mark
    `{start, end, status, title}` (character offsets)."""
    views = terms_of(sentence)
    return {f"{side}_marks": [{"start": m.start, "end": m.end,
                               "status": m.classes.rsplit("-", 1)[1], "title": m.title}
                              for m in term_marks(views, side)] for side in ("ru", "en")}
