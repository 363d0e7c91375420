"""Where glossary targets go in a model's own output, found from its attention.

For a decoder that cannot constrain its search (CTranslate2), a target is placed by editing the
model's unconstrained output and letting the model go on from the edit: the output position
where the model translated the source term (the output tokens whose attention peaks on the
term's source tokens) is replaced, whole words at a time, by the target's tokens; the words
before it stay the model's own, and a forced prefix up to the last target is continued by the
model. Every target is placed (if the vocabulary can spell it), and the order of the targets in
the output is the order in which the model rendered their source terms, whatever the order of
the glossary. A target already in the output stays where it is.

Pure functions over pieces and attention rows: no model here, so they are tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WORD_START = "▁"


def glued(piece: str) -> bool:
    """Whether a piece continues the word before it (`s` after `▁Hama`)."""
    return bool(piece) and piece[0] != WORD_START and piece[0].isalnum()


@dataclass(frozen=True)
class Target:
    """A target as pieces, in the forms it may take: `forms[0]` as written, `forms[1]` (when
    there is one) capitalised, for the start of a sentence only. `source` is the source term's
    span in source pieces, `(0, 0)` when unknown."""

    forms: tuple[tuple[str, ...], ...]
    source: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Placement:
    """Target `target` replaces output pieces `start:end` (an empty span inserts it)."""

    target: int
    start: int
    end: int


def _word_start(pieces: Sequence[str], i: int) -> int:
    while 0 < i < len(pieces) and glued(pieces[i]):
        i -= 1
    return i


def _word_end(pieces: Sequence[str], i: int) -> int:
    """The first position at or after `i` that does not continue a word."""
    while i < len(pieces) and glued(pieces[i]):
        i += 1
    return i


def _occurrence(pieces: Sequence[str], target: Target) -> tuple[int, int] | None:
    """Where the output already has the target, as whole words."""
    for k, form in enumerate(target.forms):
        n = len(form)
        for i in range(len(pieces) - n + 1):
            if (tuple(pieces[i:i + n]) == form and (k == 0 or i == 0)
                    and _word_end(pieces, i + n) == i + n):
                return i, i + n
    return None


def rendering(pieces: Sequence[str], attention: Sequence[Sequence[float]],
              source: tuple[int, int]) -> tuple[int, int]:
    """The whole words of the output in which the model translated source pieces
    `source[0]:source[1]`: around the position attending most to them, the run of positions
    whose strongest attention is on them."""
    rows = attention[:len(pieces)]
    if not pieces or not rows:
        return len(pieces), len(pieces)
    first, stop = source
    if stop <= first:  # the term's place is unknown: after the output's last word
        end = len(pieces)
        while end and not any(c.isalnum() for c in pieces[end - 1]):
            end -= 1
        return end, end
    mass = [sum(row[first:stop]) for row in rows]
    on_term = [first <= max(range(len(row)), key=row.__getitem__) < stop if row else False
               for row in rows]
    best = max((t for t in range(len(rows)) if on_term[t]), key=mass.__getitem__,
               default=max(range(len(rows)), key=mass.__getitem__))
    start = end = best
    while start > 0 and on_term[start - 1]:
        start -= 1
    while end + 1 < len(rows) and on_term[end + 1]:
        end += 1
    return _word_start(pieces, start), _word_end(pieces, end + 1)


def place(pieces: Sequence[str], attention: Sequence[Sequence[float]],
          targets: Sequence[Target]) -> list[Placement]:
    """Where each target goes in the output `pieces`, in output order, spans not overlapping.
    A target the output has keeps its place; the others take the place of the words the model
    rendered their source term with; a target whose place is taken goes right after."""
    found = []
    for j, target in enumerate(targets):
        present = _occurrence(pieces, target)
        start, end = present or rendering(pieces, attention, target.source)
        found.append((start, present is None, j, end))
    placements: list[Placement] = []
    cursor = 0
    # Output order; at one place, a target already there first, then by the target itself.
    for start, _, j, end in sorted(found, key=lambda f: (f[0], f[1], targets[f[2]].forms)):
        start = max(start, cursor)
        end = max(end, start)
        placements.append(Placement(j, start, end))
        cursor = end
    return placements


def prefix(pieces: Sequence[str], targets: Sequence[Target],
           placements: Sequence[Placement]) -> list[str]:
    """The output up to the last target, every target written in: what the model is forced to
    start with before it goes on by itself."""
    out: list[str] = []
    cursor = 0
    for p in placements:
        out += pieces[cursor:p.start]
        forms = targets[p.target].forms
        # The capitalised form opens the sentence, and only there.
        out += forms[1] if not out and len(forms) > 1 else forms[0]
        cursor = p.end
    return out


def unglue(pieces: Sequence[str], after: int) -> list[str]:
    """`pieces` without the word ending glued onto the target ending at `after` (the model went
    on with `s` after `▁Hama`)."""
    return [*pieces[:after], *pieces[_word_end(pieces, after):]]
