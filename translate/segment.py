"""Russian sentence segmentation: razdel, plus rules that undo what it gets wrong in news text.

`segment(text)` returns every sentence with its paragraph number, index and character offsets,
so that `text[s.start:s.end] == s.ru` always holds, and only whitespace lies between sentences.

How a paragraph is split:

1. `razdel.sentenize` proposes sentence boundaries.
2. At each boundary the rules below are asked in order; the first that answers decides
   (`JOIN`: the two sentences are one; `SPLIT`: they stay apart). When none answers, razdel's
   split stands. The rules only ever join razdel's sentences or confirm its splits; razdel's own
   joins (after "т.е.", "г.", "ул.", initials, ...) are kept as they are.
3. `explain(text)` lists every decision with the rule that made it, razdel's included:
   `python -m translate.segment FILE` prints them, for when a user reports a bad split.

The rules in words:

- an abbreviation that stands before a name (a rank, a kind of place, "Вост. Гута", see
  `translate.abbreviations.HEAD`) never ends a sentence;
- a quotation («…», „…“, "…") or a parenthesis that holds several sentences stays in one
  segment together with the sentence that introduces it, unless the result would be longer
  than `MAX_JOINED_CHARS`; then razdel's sentences inside it stand, so that no segment grows
  past what a translation model handles well. A quotation that is not closed within its
  paragraph joins nothing.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from razdel import sentenize

from corpus.parts import paragraphs  # long files are cut into parts between them too
from corpus.types import Segment
from translate.abbreviations import HEAD

# Recorded with every translation (System.settings): bump it when the rules change what is split.
SEGMENTER = "razdel+news-2"

Action = Literal["join", "split"]
JOIN: Action = "join"
SPLIT: Action = "split"

# A joined quotation longer than this stays split at razdel's boundaries. It is nearly twice the
# longest sentence of the sample article (292 characters); a longer joined quotation would hand
# the model an input far longer than the sentences it was trained on.
MAX_JOINED_CHARS = 500

_ABBREVIATION_LEFT = re.compile(r"([^\W\d_]+)\.$")

# Quotation marks and brackets: opening mark -> closing marks that may end it.
_PAIRS = {"«": "»", "„": "“”", "“": "”", '"': '"', "(": ")", "[": "]"}
_QUOTES = frozenset("«„“\"")


# ---------------------------------------------------------------------------------------------
# Quotations and brackets
# ---------------------------------------------------------------------------------------------

def enclosures(text: str) -> list[tuple[int, int]]:
    """(open, close) offsets of every quotation or parenthesis closed within `text`.

    Guillemets and brackets nest; a straight `"` opens after a space or at the start and closes
    otherwise; marks without a partner are ignored."""
    stack: list[tuple[str, int]] = []
    found: list[tuple[int, int]] = []
    for i, char in enumerate(text):
        if stack and char in _PAIRS[stack[-1][0]]:
            found.append((stack.pop()[1], i))
        elif char in _PAIRS and (char not in '"“' or _opens(text, i)):
            stack.append((char, i))
        elif char in "»“”)]":
            # A closing mark for something further down the stack: what lies above it never closed.
            for depth in range(len(stack) - 1, -1, -1):
                if char in _PAIRS[stack[depth][0]]:
                    found.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    return sorted(found)


def _opens(text: str, i: int) -> bool:
    """Whether an ambiguous quotation mark at `i` opens: at the start or after a space or an
    opening mark, and followed by something other than a space."""
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([«„—–-") and not after.isspace()


# ---------------------------------------------------------------------------------------------
# Boundaries and rules
# ---------------------------------------------------------------------------------------------

class Spans:
    """Sorted, disjoint half-open (start, end) spans, looked up by bisection (a paragraph can be
    a whole file when it has no blank lines, so nothing here may be quadratic)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.spans = list(spans)
        self.starts = [start for start, _ in self.spans]

    def around(self, offset: int) -> tuple[int, int] | None:
        i = bisect_right(self.starts, offset) - 1
        if i >= 0 and offset < self.spans[i][1]:
            return self.spans[i]
        return None


@dataclass(frozen=True)
class Boundary:
    """A place where razdel ended a sentence, with what the rules need to judge it."""

    text: str                # the paragraph
    sentences: Spans         # razdel's sentences in the paragraph
    i: int                   # the boundary follows sentences.spans[i]
    start: int               # start of the sentence as joined so far
    quotations: Spans = field(default_factory=lambda: Spans(()))  # outermost (open, close)
    brackets: Spans = field(default_factory=lambda: Spans(()))

    @property
    def position(self) -> int:
        return self.sentences.spans[self.i][1]

    def left(self, width: int = 40) -> str:
        """The end of the sentence before the boundary."""
        return self.text[max(self.start, self.position - width):self.position]

    def right(self, width: int = 40) -> str:
        """The start of the sentence after it."""
        start = self.sentences.spans[self.i + 1][0]
        return self.text[start:start + width]


Rule = Callable[[Boundary], Action | None]


# --- abbreviations -----------------------------------------------------------------------------

def abbreviation_before_name(b: Boundary) -> Action | None:
    """"ген. Иванов", "пров. Хомс", "Вост. Гута": razdel takes the period for a sentence end."""
    match = _ABBREVIATION_LEFT.search(b.left())
    if match and match.group(1).lower() in HEAD:
        return JOIN
    return None


# --- quotations and brackets -----------------------------------------------------------------

def _join_if_short(b: Boundary, enclosing: Spans) -> Action | None:
    """Join when the boundary lies inside an enclosing span (its opening mark before the
    boundary, its closing mark after it) and the whole, with the sentences that hold its marks,
    is short enough."""
    span = enclosing.around(b.position - 1)  # open <= position - 1 < close
    if span is None:
        return None
    open_, close = span
    first = min(b.start, (b.sentences.around(open_) or (open_, 0))[0])
    last = (b.sentences.around(close) or (0, close + 1))[1]
    return JOIN if last - first <= MAX_JOINED_CHARS else SPLIT


def inside_quotation(b: Boundary) -> Action | None:
    """«Город Хама освобожден. Хомс ждет наших войск»: razdel splits inside quotations."""
    return _join_if_short(b, b.quotations)


def inside_brackets(b: Boundary) -> Action | None:
    """"(По данным ООН. Эти цифры не проверены.)": a parenthesis is read as one aside."""
    return _join_if_short(b, b.brackets)


RULES: tuple[Rule, ...] = (
    abbreviation_before_name,
    inside_quotation,
    inside_brackets,
)


# ---------------------------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """Why a sentence boundary was or was not made at `position` (an offset in the text)."""

    position: int
    action: Action
    rule: str        # one of RULES, "razdel.<rule>" for razdel's joins, or "razdel" for its splits
    context: str     # a few characters either side, the place marked with "|"


def _decide(text: str, rules: Sequence[Rule] = RULES) -> tuple[list[tuple[int, int]],
                                                                  list[Decision]]:
    """Sentences of one paragraph and the decision taken at each of razdel's boundaries."""
    sentences = [(s.start, s.stop) for s in sentenize(text)]
    enclosed = enclosures(text) if len(sentences) > 1 else []
    quotations = _outermost(s for s in enclosed if text[s[0]] in _QUOTES)
    brackets = _outermost(s for s in enclosed if text[s[0]] not in _QUOTES)
    spans: list[tuple[int, int]] = []
    decisions: list[Decision] = []
    start = sentences[0][0] if sentences else 0
    by_offset = Spans(sentences)
    for i in range(len(sentences)):
        if i + 1 == len(sentences):
            spans.append((start, sentences[i][1]))
            break
        boundary = Boundary(text, by_offset, i, start, quotations, brackets)
        action, name = SPLIT, "razdel"
        for rule in rules:
            if verdict := rule(boundary):
                action, name = verdict, rule.__name__
                break
        decisions.append(Decision(boundary.position, action, name,
                                  _context(text, boundary.position)))
        if action == SPLIT:
            spans.append((start, sentences[i][1]))
            start = sentences[i + 1][0]
    return spans, decisions


def _outermost(enclosed: Iterable[tuple[int, int]]) -> Spans:
    """The outermost of properly nested (open, close) pairs sorted by `open`. As half-open spans
    they hold the positions just after the opening mark up to just before the closing one."""
    kept: list[tuple[int, int]] = []
    for open_, close in enclosed:
        if not kept or open_ > kept[-1][1]:
            kept.append((open_, close))
    return Spans(kept)


def _context(text: str, position: int, width: int = 25) -> str:
    left = text[max(0, position - width):position].replace("\n", " ")
    right = text[position:position + width].replace("\n", " ")
    return f"{left}|{right}"


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of one paragraph."""
    return _decide(text)[0]


def segment(text: str) -> list[Segment]:
    """Every sentence of `text`, numbered in order, with its paragraph and offsets."""
    segments: list[Segment] = []
    paragraph = 0
    for start, end in paragraphs(text):
        spans = split_sentences(text[start:end])
        if not spans:
            continue
        for s, e in spans:
            ru = text[start + s:start + e]
            if ru.strip():
                segments.append(Segment(index=len(segments), paragraph=paragraph,
                                        start=start + s, end=start + e, ru=ru))
        paragraph += 1
    return segments


# ---------------------------------------------------------------------------------------------
# Debugging
# ---------------------------------------------------------------------------------------------

def explain(text: str) -> list[Decision]:
    """Every place where a sentence could end, in text order, with the rule that decided it:
    razdel's joins (`razdel.<its rule>`), razdel's splits that stand (`razdel`), and ours."""
    decisions: list[Decision] = []
    for start, end in paragraphs(text):
        paragraph = text[start:end]
        _, ours = _decide(paragraph)
        decided = {d.position for d in ours}
        merged = ours + [d for d in _razdel_joins(paragraph) if d.position not in decided]
        decisions += [Decision(d.position + start, d.action, d.rule,
                               _context(text, d.position + start))
                      for d in sorted(merged, key=lambda d: d.position)]
    return decisions


def _razdel_joins(text: str) -> list[Decision]:
    """The candidate sentence ends that razdel itself joined, with its rule's name.

    This replays razdel's own loop (`razdel.segmenters.base.Segmenter.segment`) to learn the
    rule names, which its public API does not give; it only feeds `explain`."""
    parts = iter(sentenize.split(text))
    buffer = next(parts, None)
    if buffer is None:
        return []
    offset = len(buffer)
    joins: list[Decision] = []
    for split in parts:
        right = next(parts)
        split.buffer = buffer
        offset += len(split.delimiter)
        action, name = None, ""
        for rule in sentenize.rules:
            if action := rule(split):
                name = rule.name
                break
        if action == JOIN:
            if name != "empty_side":  # the end of the text: nothing to explain
                joins.append(Decision(offset, JOIN, f"razdel.{name}", ""))
            buffer += split.delimiter + right
        else:
            buffer = right
        offset += len(right)
    return joins


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m translate.segment FILE`: the sentences of FILE and why each boundary is where
    it is (FILE is read like `ruen translate` reads it; `-` is stdin)."""
    from corpus.errors import InputError
    from corpus.ingest import read_document

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.exit("usage: python -m translate.segment FILE")
    data = sys.stdin.buffer.read() if args[0] == "-" else None
    try:
        text = read_document(args[0], data).text
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    for d in explain(text):
        print(f"{d.position:>7}  {d.action:<5} {d.rule:<26} {d.context}")
    print()
    for s in segment(text):
        print(f"[{s.paragraph}:{s.index}] {s.ru}")


if __name__ == "__main__":
    main()
