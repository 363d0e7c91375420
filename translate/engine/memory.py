"""How many sentences decode at once: batches cut to a memory budget.

Every hypothesis (beam * sentences of them) holds a row of logits and its attention caches:
about 1.2 MB + 25 kB per source and output token for opus-mt-ru-en's shape (measured on
CTranslate2: 64 hypotheses of 24 + 40 tokens peak at +170 MB; transformers in float32 keeps
about as much: a 62518-float row of logits in a few copies, 6 layers of keys and values of 512
floats per token). Beyond about 128 hypotheses CPU time per sentence stops improving, so that
is the ceiling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

HYPOTHESES_PER_BATCH = 128
HYPOTHESIS_MB, TOKEN_MB = 1.2, 0.025
DEFAULT_BATCH_TOKENS = 4096  # DecodeSettings.max_batch_tokens, the default `--batch-tokens`


def budget_mb(default_mb: float, batch_tokens: int) -> float:
    """A backend's decoding budget at `--batch-tokens` (in proportion to the default)."""
    return default_mb * batch_tokens / DEFAULT_BATCH_TOKENS


def plan_chunks(lengths: Sequence[int], beams: int | Sequence[int],
                output_tokens: Callable[[int], int], budget: float) -> list[list[int]]:
    """Indices of `lengths` (source tokens), longest first, in groups whose hypotheses fit in
    `budget` MB. `beams`: hypotheses per sentence (one number, or one per sentence);
    `output_tokens(longest source)`: how long the outputs of a group may grow."""
    beam = [beams] * len(lengths) if isinstance(beams, int) else list(beams)
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    chunks: list[list[int]] = []
    rows = 0
    for i in order:
        if chunks and rows + beam[i] <= HYPOTHESES_PER_BATCH:
            longest = lengths[chunks[-1][0]]
            per_row = HYPOTHESIS_MB + TOKEN_MB * (longest + output_tokens(longest))
            if per_row * (rows + beam[i]) <= budget:
                chunks[-1].append(i)
                rows += beam[i]
                continue
        chunks.append([i])
        rows = beam[i]
    return chunks
