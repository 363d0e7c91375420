"""Length-sorted batches under a token budget, and splitting of over-long sentences."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Clause boundaries, most natural first: a long sentence is cut at the first kind that helps.
CLAUSE_BREAKS = (re.compile(r"(?<=[;:])\s+"), re.compile(r"\s+(?=[—–-]\s)"),
                 re.compile(r"(?<=,)\s+"), re.compile(r"\s+"))


def plan_batches(lengths: Sequence[int], max_tokens: int, max_sentences: int) -> list[list[int]]:
    """Group indices into batches, longest first, so that padded size (longest * count) stays
    within `max_tokens`. Every index appears in exactly one batch."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= max_sentences or longest * (len(current) + 1) > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def split_long(sentence: str, count: Callable[[str], int], limit: int) -> list[str]:
    """Cut a sentence the model cannot take whole into pieces of at most `limit` tokens, at
    clause boundaries where possible, so that nothing is truncated. Joined with a space, the
    pieces give back the sentence (up to the whitespace at the cuts)."""
    if count(sentence) <= limit or len(sentence) < 2:  # one character cannot be cut further
        return [sentence]
    for pattern in CLAUSE_BREAKS:
        parts = [p for p in pattern.split(sentence) if p]
        if len(parts) > 1:
            return _pack(parts, count, limit)
    # One unbroken run of characters: cut it in halves until the pieces fit.
    middle = len(sentence) // 2
    return split_long(sentence[:middle], count, limit) + split_long(sentence[middle:], count, limit)


def _pack(parts: list[str], count: Callable[[str], int], limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}" if current else part
        if current and count(candidate) > limit:
            pieces.append(current)
            candidate = part
        current = candidate
    pieces.append(current)
    return [p for piece in pieces for p in split_long(piece, count, limit)]
