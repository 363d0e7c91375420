"""Constrained decoding for Marian models: every glossary target is in the output.

transformers 5 removed its constrained beam search, so this is our own beam search with
dynamic beam allocation (Post & Vilar, NAACL 2018). Each hypothesis remembers which targets it
has placed and whether it is in the middle of one. At every step a hypothesis may take one of
the model's best tokens, or start any target it has not placed yet; a hypothesis in the middle
of a target goes on with it or abandons it for one of the model's best tokens (the model's own
`the` need not begin `the Assad regime`). The candidates are grouped in banks by how many
target tokens they have placed, and the beam is shared out between the banks, so hypotheses
that have placed more targets survive next to the model's own best guesses. The end of the
sentence is allowed only once every target is placed, and when the tokens left are just enough
for the targets not yet placed, only targets are written: the output always contains every
target the vocabulary can spell. The beam is widened with the number of targets.

The model's scores decide where a target goes, so it lands where the model finds it most
likely, usually where the source term is translated. A target starting lowercase may also be
written capitalised (it may open the sentence). After a target ending in a letter or digit, a
token that would glue onto it (`Hama` + `s`) is not allowed.

`ConstrainedDecoder` needs only a Marian model and its tokenizer, so any backend that can load
the transformers checkpoint (the CTranslate2 engine does) can use it.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from corpus.types import Hypothesis

DEFAULT_BEAM = 4
#: Several targets need room in the beam: it is widened to `targets + EXTRA_BEAM`, up to MAX_BEAM.
EXTRA_BEAM, MAX_BEAM = 3, 12
LENGTH_PENALTY = 1.0
# Without a limit from the caller: output cap as in DecodeSettings (ratio * source + slack).
LENGTH_RATIO, LENGTH_SLACK = 2.0, 10

Alternatives = list[list[int]]  # one target, as every token sequence that spells it


@dataclass(frozen=True)
class _Hyp:
    tokens: tuple[int, ...]
    score: float  # sum of log-probabilities
    met: tuple[bool, ...]  # per constraint: placed
    # While writing a target: (constraint, tokens written, alternatives still possible)
    progress: tuple[int, int, tuple[int, ...]] | None
    parent: int  # row of the hypothesis this one extends, in the previous step's batch
    glue_forbidden: bool = False  # just finished a target ending in a letter or digit

    def placed(self, lengths: Sequence[int]) -> int:
        done = sum(n for n, met in zip(lengths, self.met, strict=True) if met)
        return done + (self.progress[1] if self.progress else 0)


class ConstrainedDecoder:
    """Forced-phrase beam search over a transformers Marian model (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.tokenizer = tokenizer
        config = model.config
        self.eos = int(config.eos_token_id)
        self.pad = int(config.pad_token_id)
        self.start = int(config.decoder_start_token_id)
        self.unk = tokenizer.unk_token_id
        size = int(config.vocab_size)
        pieces = tokenizer.convert_ids_to_tokens(list(range(min(size, len(tokenizer)))))
        glued = [bool(p) and p[0] != "▁" and p[0].isalnum() for p in pieces]
        self._glued = torch.tensor(glued + [False] * (size - len(glued)))
        # transformers 5.x renamed the decoder cache argument `past_key_values` to `cache`.
        self._cache_arg = ("cache" if "cache" in inspect.signature(model.forward).parameters
                           else "past_key_values")

    def target_ids(self, target: str) -> list[int] | None:
        """The tokens that spell `target`, or None when the vocabulary cannot spell it."""
        ids = self.tokenizer(text_target=target, add_special_tokens=False)["input_ids"]
        if not ids or self.unk in ids:
            return None
        if self.tokenizer.decode(ids, skip_special_tokens=True).strip() != target.strip():
            return None
        return list(ids)

    def alternatives(self, target: str) -> Alternatives:
        """Ways to write `target`: as given and, when it starts lowercase (`the Assad regime`),
        capitalised too, since it may open the sentence."""
        forms = [target]
        if target[:1].islower():
            forms.append(target[0].upper() + target[1:])
        return [ids for form in forms if (ids := self.target_ids(form))]

    def translate(self, sentence: str, targets: Sequence[str], *, beam: int = DEFAULT_BEAM,
                  max_new_tokens: int | None = None,
                  length_penalty: float = LENGTH_PENALTY) -> Hypothesis:
        """The best translation of `sentence` containing every target that can be spelled."""
        torch = self.torch
        constraints = [alts for t in dict.fromkeys(targets) if (alts := self.alternatives(t))]
        shortest = [min(len(a) for a in alts) for alts in constraints]
        longest = [max(len(a) for a in alts) for alts in constraints]
        if constraints:
            beam = max(beam, min(len(constraints) + EXTRA_BEAM, MAX_BEAM))
        encoded = self.tokenizer([sentence], return_tensors="pt", truncation=True)
        with torch.inference_mode():
            from transformers.modeling_outputs import BaseModelOutput

            hidden = self.model.get_encoder()(**encoded).last_hidden_state
            mask = encoded["attention_mask"].to(hidden.device)
            source_len = int(encoded["input_ids"].shape[1])
            limit = max_new_tokens or int(LENGTH_RATIO * source_len) + LENGTH_SLACK
            limit = max(limit, sum(longest) + 2)
            hyps = [_Hyp((), 0.0, (False,) * len(constraints), None, 0)]
            finished: list[tuple[tuple[int, ...], float]] = []
            cache = None
            for step in range(limit):
                rows = len(hyps)
                if cache is not None:
                    cache.reorder_cache(torch.tensor([h.parent for h in hyps],
                                                     device=hidden.device))
                last = torch.tensor([[h.tokens[-1] if h.tokens else self.start] for h in hyps],
                                    device=hidden.device)
                out = self.model(
                    encoder_outputs=BaseModelOutput(last_hidden_state=hidden.expand(rows, -1, -1)),
                    attention_mask=mask.expand(rows, -1), decoder_input_ids=last,
                    use_cache=True, **{self._cache_arg: cache})
                cache = getattr(out, self._cache_arg)
                logp = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).cpu()
                logp[:, self.pad] = -float("inf")
                candidates = []
                for row, hyp in enumerate(hyps):
                    candidates += self._expand(hyp, row, logp[row], constraints, longest,
                                               beam, limit - step, finished)
                if len(finished) >= beam or not candidates:
                    break
                hyps = self._allocate(candidates, shortest, beam)
            complete = [(h.tokens, h.score) for h in hyps
                        if all(h.met) and h.progress is None]
            pool = finished or complete or [(h.tokens, h.score) for h in hyps]

        def normalised(item: tuple[tuple[int, ...], float]) -> float:
            return item[1] / max(1, len(item[0]) + 1) ** length_penalty

        tokens, _ = max(pool, key=normalised)
        text = self.tokenizer.decode(list(tokens), skip_special_tokens=True).strip()
        return Hypothesis(text=text, score=normalised((tokens, _)))

    def _expand(self, hyp: _Hyp, row: int, logp: Any, constraints: list[Alternatives],
                longest: list[int], beam: int, steps_left: int,
                finished: list[tuple[tuple[int, ...], float]]) -> list[_Hyp]:
        """The continuations of one hypothesis worth scoring; finished ones go to `finished`.

        A hypothesis writing a target may go on with it, or abandon it for one of the model's
        best tokens (the model's own `the` need not begin `the Assad regime`); one not writing a
        target may start any target it has not placed, or take one of the model's best tokens.
        """
        unmet = [j for j, met in enumerate(hyp.met) if not met]
        todo = sum(longest[j] for j in unmet)
        forced: list[_Hyp] = []
        if hyp.progress is not None:
            c, written, alive = hyp.progress
            nexts = dict.fromkeys(constraints[c][a][written] for a in alive)
            forced = [self._write(hyp, row, t, float(logp[t]), constraints, c, written, alive)
                      for t in nexts]
            todo -= written
        else:
            starts: dict[int, _Hyp] = {}  # by first token: one way to start each target
            for j in unmet:
                alive = tuple(range(len(constraints[j])))
                for first in dict.fromkeys(alt[0] for alt in constraints[j]):
                    starts.setdefault(first, self._write(hyp, row, first, float(logp[first]),
                                                         constraints, j, 0, alive))
            forced = list(starts.values())
        if todo and steps_left <= todo + 1:
            return forced  # only room left for the targets
        scores = logp.clone()
        if todo:
            scores[self.eos] = -float("inf")
        if hyp.glue_forbidden:
            scores[self._glued] = -float("inf")
        top = self.torch.topk(scores, beam)
        taken = {h.tokens[-1] for h in forced} if hyp.progress is not None else set()
        free = []
        for value, index in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            if value == -float("inf") or index in taken:
                continue
            if index == self.eos:
                finished.append((hyp.tokens, hyp.score + value))
                continue
            free.append(_Hyp((*hyp.tokens, index), hyp.score + value, hyp.met, None, row))
        return forced + free

    @staticmethod
    def _write(hyp: _Hyp, row: int, token: int, logp: float, constraints: list[Alternatives],
               c: int, written: int, alive: tuple[int, ...]) -> _Hyp:
        """`hyp` + `token`, the token number `written` of target `c`."""
        alive = tuple(a for a in alive if constraints[c][a][written] == token)
        written += 1
        done = any(len(constraints[c][a]) == written for a in alive)
        met = tuple(True if j == c and done else m for j, m in enumerate(hyp.met))
        return _Hyp((*hyp.tokens, token), hyp.score + logp, met,
                    None if done else (c, written, alive), row, glue_forbidden=done)

    @staticmethod
    def _allocate(candidates: list[_Hyp], lengths: list[int], beam: int) -> list[_Hyp]:
        """The next beam: the best of each bank (target tokens placed) in turn, most placed
        first, until the beam is full."""
        banks: dict[int, list[_Hyp]] = defaultdict(list)
        seen: set[object] = set()
        for hyp in sorted(candidates, key=lambda h: -h.score):
            key = (hyp.tokens, hyp.met, hyp.progress)
            if key not in seen:
                seen.add(key)
                banks[hyp.placed(lengths)].append(hyp)
        order = sorted(banks, reverse=True)
        chosen: list[_Hyp] = []
        depth = 0
        while len(chosen) < beam and any(len(banks[b]) > depth for b in order):
            for b in order:
                if len(banks[b]) > depth and len(chosen) < beam:
                    chosen.append(banks[b][depth])
            depth += 1
        return chosen
