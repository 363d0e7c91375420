"""Constrained decoding for Marian models: every glossary target is in the output.

transformers 5 removed its constrained beam search, so this is our own beam search with
dynamic beam allocation (Post & Vilar, NAACL 2018). Each hypothesis remembers which targets it
has placed and whether it is in the middle of some. At every step a hypothesis may take one of
the model's best tokens, or start any target it has not placed yet; a hypothesis in the middle
of a target goes on with it or abandons it for one of the model's best tokens (the model's own
`the` need not begin `the Assad regime`). Targets sharing first tokens (`Hama`,
`Hama province`) are written together until they part, so which one is placed where never
depends on their order. The candidates are grouped in banks by how many target tokens they
have placed, and the beam is shared out between the banks, so hypotheses that have placed more
targets survive next to the model's own best guesses. The end of the sentence is allowed only
once every target is placed, and when the tokens left are just enough for the targets not yet
placed, only targets are written: the output always contains every target the vocabulary can
spell. The beam is widened with the number of targets.

The model's scores decide where a target goes, so it lands where the model finds it most
likely, usually where the source term is translated. A target starting lowercase may be written
capitalised at the start of the sentence, and only there. After a target ending in a letter or
digit, a token that would glue onto it (`Hama` + `s`) is not allowed.

Several sentences are searched together: every step is one decoder call over the hypotheses of
all of them. Every tensor lives on the model's device; only the few numbers the search needs
per hypothesis (the best tokens, the forced tokens' scores) are copied out at each step.

`ConstrainedDecoder` needs only a Marian model and its tokenizer.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from corpus.types import Hypothesis

DEFAULT_BEAM = 4
#: Several targets need room in the beam: it is widened to `targets + EXTRA_BEAM`, up to MAX_BEAM.
EXTRA_BEAM, MAX_BEAM = 3, 12
LENGTH_PENALTY = 1.0
# Without a limit from the caller: output cap as in DecodeSettings (ratio * source + slack).
LENGTH_RATIO, LENGTH_SLACK = 2.0, 10


@dataclass(frozen=True)
class Spelling:
    """One way to write a target in tokens; `opening` ones only at the start of a sentence."""

    ids: tuple[int, ...]
    opening: bool = False


Alternatives = list[Spelling]  # one target, as every token sequence that spells it
Finished = tuple[tuple[int, ...], float]


@dataclass(frozen=True)
class _Hyp:
    tokens: tuple[int, ...]
    score: float  # sum of log-probabilities
    met: tuple[bool, ...]  # per constraint: placed
    # While writing targets: (tokens written, the (constraint, spelling) pairs still possible)
    progress: tuple[int, tuple[tuple[int, int], ...]] | None
    parent: int  # row of the hypothesis this one extends, in the previous step's batch
    glue_forbidden: bool = False  # just finished a target ending in a letter or digit

    def placed(self, lengths: Sequence[int]) -> int:
        done = sum(n for n, met in zip(lengths, self.met, strict=True) if met)
        return done + (self.progress[0] if self.progress else 0)


@dataclass
class _Search:
    """One sentence's beam search."""

    row: int  # in the encoder batch
    constraints: list[Alternatives]
    beam: int
    limit: int
    hyps: list[_Hyp]
    finished: list[Finished] = field(default_factory=list)
    done: bool = False

    @property
    def shortest(self) -> list[int]:
        return [min(len(a.ids) for a in alts) for alts in self.constraints]

    @property
    def longest(self) -> list[int]:
        return [max(len(a.ids) for a in alts) for alts in self.constraints]


class ConstrainedDecoder:
    """Forced-phrase beam search over a transformers Marian model (see the module docstring)."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.tokenizer = tokenizer
        self.device = getattr(model, "device", torch.device("cpu"))
        config = model.config
        self.eos = int(config.eos_token_id)
        self.pad = int(config.pad_token_id)
        self.start = int(config.decoder_start_token_id)
        self.unk = tokenizer.unk_token_id
        size = int(config.vocab_size)
        pieces = tokenizer.convert_ids_to_tokens(list(range(min(size, len(tokenizer)))))
        glued = [bool(p) and p[0] != "▁" and p[0].isalnum() for p in pieces]
        self._glued = torch.tensor(glued + [False] * (size - len(glued)), device=self.device)
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
        capitalised at the start of the sentence."""
        spelled = self.target_ids(target)
        if spelled is None:
            return []
        forms = [Spelling(tuple(spelled))]
        if target[:1].islower() and (upper := self.target_ids(target[0].upper() + target[1:])):
            forms.append(Spelling(tuple(upper), opening=True))
        return forms

    @staticmethod
    def beam_for(targets: Sequence[object], beam: int = DEFAULT_BEAM) -> int:
        """The beam for a sentence with `targets` (widened with their number)."""
        return max(beam, min(len(targets) + EXTRA_BEAM, MAX_BEAM)) if targets else beam

    def translate(self, sentence: str, targets: Sequence[str], *, beam: int = DEFAULT_BEAM,
                  max_new_tokens: int | None = None,
                  length_penalty: float = LENGTH_PENALTY) -> Hypothesis:
        """The best translation of `sentence` containing every target that can be spelled."""
        return self.translate_batch([sentence], [targets], beam=beam,
                                    max_new_tokens=None if max_new_tokens is None
                                    else [max_new_tokens], length_penalty=length_penalty)[0]

    def translate_batch(self, sentences: Sequence[str], targets: Sequence[Sequence[str]], *,
                        beam: int = DEFAULT_BEAM, max_new_tokens: Sequence[int] | None = None,
                        length_penalty: float = LENGTH_PENALTY) -> list[Hypothesis]:
        """`translate` of several sentences at once, one decoder call per step for all."""
        if not sentences:
            return []
        hidden, mask, lengths = self._encode(sentences)
        searches = []
        for row, wanted in enumerate(targets):
            constraints = [alts for t in dict.fromkeys(wanted) if (alts := self.alternatives(t))]
            limit = (max_new_tokens[row] if max_new_tokens else
                     int(LENGTH_RATIO * lengths[row]) + LENGTH_SLACK)
            longest = sum(max(len(a.ids) for a in alts) for alts in constraints)
            searches.append(_Search(row, constraints, self.beam_for(constraints, beam),
                                    max(limit, longest + 2),
                                    [_Hyp((), 0.0, (False,) * len(constraints), None, 0)]))
        cache = None
        parents: list[int] = []
        with self.torch.inference_mode():
            for step in range(max(s.limit for s in searches)):
                active = [s for s in searches if not s.done]
                if not active:
                    break
                rows = [(s, h) for s in active for h in s.hyps]
                logp, cache = self._step(hidden, mask, rows, parents, cache)
                forced, top = self._lookups(logp, rows, max(s.beam for s in active))
                parents = []
                for search in active:
                    candidates = []
                    for row, (owner, hyp) in enumerate(rows):
                        if owner is search:
                            candidates += self._expand(hyp, row, forced[row], top[row],
                                                       search, search.limit - step)
                    if len(search.finished) >= search.beam or not candidates:
                        search.done = True
                        continue
                    search.hyps = self._allocate(candidates, search.shortest, search.beam)
                    search.done = step + 1 >= search.limit
                parents = [h.parent for s in searches if not s.done for h in s.hyps]
        return [self._best(s, length_penalty) for s in searches]

    def _encode(self, sentences: Sequence[str]) -> tuple[Any, Any, list[int]]:
        encoded = self.tokenizer(list(sentences), return_tensors="pt", padding=True,
                                 truncation=True)
        lengths = [int(n) for n in encoded["attention_mask"].sum(dim=1).tolist()]
        encoded = {k: v.to(self.device) for k, v in encoded.items()}
        with self.torch.inference_mode():
            hidden = self.model.get_encoder()(**encoded).last_hidden_state
        return hidden, encoded["attention_mask"], lengths

    def _step(self, hidden: Any, mask: Any, rows: list[tuple[_Search, _Hyp]],
              parents: list[int], cache: Any) -> tuple[Any, Any]:
        """One decoder call over every hypothesis: log-probabilities (rows x vocabulary, on
        the model's device) and the cache, reordered for the hypotheses that survived."""
        from transformers.modeling_outputs import BaseModelOutput

        torch = self.torch
        if cache is not None:
            cache.reorder_cache(torch.tensor(parents, dtype=torch.long, device=self.device))
        source = torch.tensor([s.row for s, _ in rows], dtype=torch.long, device=self.device)
        last = torch.tensor([[h.tokens[-1] if h.tokens else self.start] for _, h in rows],
                            dtype=torch.long, device=self.device)
        out = self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=hidden.index_select(0, source)),
            attention_mask=mask.index_select(0, source), decoder_input_ids=last,
            use_cache=True, **{self._cache_arg: cache})
        logp = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
        logp[:, self.pad] = -float("inf")
        return logp, getattr(out, self._cache_arg)

    def _lookups(self, logp: Any, rows: list[tuple[_Search, _Hyp]], k: int
                 ) -> tuple[list[dict[int, float]], list[list[tuple[float, int]]]]:
        """What the search needs of each row, copied off the device in one go: the scores of
        the tokens it may be forced to write, and its `k` best free tokens."""
        wanted = [self._forceable(search, hyp) for search, hyp in rows]
        flat_rows = [r for r, tokens in enumerate(wanted) for _ in tokens]
        flat_tokens = [t for tokens in wanted for t in tokens]
        gathered, top_values, top_indices = self._select(logp, rows, flat_rows, flat_tokens, k)
        forced: list[dict[int, float]] = [{} for _ in rows]
        for r, t, v in zip(flat_rows, flat_tokens, gathered.tolist(), strict=True):
            forced[r][t] = v
        best = [list(zip(v, i, strict=True)) for v, i in
                zip(top_values.tolist(), top_indices.tolist(), strict=True)]
        return forced, best

    def _select(self, logp: Any, rows: list[tuple[_Search, _Hyp]], flat_rows: list[int],
                flat_tokens: list[int], k: int) -> tuple[Any, Any, Any]:
        """On the device: the log-probabilities of (row, token) pairs, and each row's `k` best
        tokens, with no end while targets are missing and nothing glued onto a target just
        finished."""
        torch, device = self.torch, self.device
        gathered = logp[torch.tensor(flat_rows, dtype=torch.long, device=device),
                        torch.tensor(flat_tokens, dtype=torch.long, device=device)]
        no_end = torch.tensor([not all(h.met) for _, h in rows], device=device)
        no_glue = torch.tensor([h.glue_forbidden for _, h in rows], device=device)
        scores = logp.masked_fill(no_glue[:, None] & self._glued[None, :], -float("inf"))
        scores[:, self.eos] = torch.where(no_end, -float("inf"), scores[:, self.eos])
        top = scores.topk(min(k, scores.shape[1]), dim=1)
        return gathered, top.values, top.indices

    @staticmethod
    def _forceable(search: _Search, hyp: _Hyp) -> list[int]:
        """The target tokens `hyp` may write next."""
        if hyp.progress is not None:
            written, alive = hyp.progress
            return list(dict.fromkeys(search.constraints[c][a].ids[written] for c, a in alive))
        return list(dict.fromkeys(
            alt.ids[0] for j, met in enumerate(hyp.met) if not met
            for alt in search.constraints[j] if not alt.opening or not hyp.tokens))

    def _expand(self, hyp: _Hyp, row: int, forced_logp: dict[int, float],
                top: list[tuple[float, int]], search: _Search, steps_left: int) -> list[_Hyp]:
        """The continuations of one hypothesis worth scoring; finished ones go to the search.

        A hypothesis writing targets may go on with them, or abandon them for one of the
        model's best tokens; one not writing a target may start any target it has not placed
        (all those sharing a first token at once), or take one of the model's best tokens.
        """
        constraints = search.constraints
        unmet = [j for j, met in enumerate(hyp.met) if not met]
        todo = sum(search.longest[j] for j in unmet)
        if hyp.progress is not None:
            written, alive = hyp.progress
            todo -= written
        else:
            written, alive = 0, tuple((j, a) for j in unmet for a, alt in enumerate(constraints[j])
                                      if not alt.opening or not hyp.tokens)
        forced = [self._write(hyp, row, t, logp, constraints, written, alive)
                  for t, logp in forced_logp.items()]
        if todo and steps_left <= todo + 1:
            return forced  # only room left for the targets
        taken = {h.tokens[-1] for h in forced} if hyp.progress is not None else set()
        free = []
        for value, index in top[:search.beam]:
            if value == -float("inf") or index in taken:
                continue
            if index == self.eos:
                search.finished.append((hyp.tokens, hyp.score + value))
                continue
            free.append(_Hyp((*hyp.tokens, index), hyp.score + value, hyp.met, None, row))
        return forced + free

    @staticmethod
    def _write(hyp: _Hyp, row: int, token: int, logp: float, constraints: list[Alternatives],
               written: int, alive: tuple[tuple[int, int], ...]) -> _Hyp:
        """`hyp` + `token`, token number `written` of the targets still possible."""
        alive = tuple((c, a) for c, a in alive if constraints[c][a].ids[written] == token)
        written += 1
        completed = {c for c, a in alive if len(constraints[c][a].ids) == written}
        met = tuple(m or j in completed for j, m in enumerate(hyp.met))
        going = tuple((c, a) for c, a in alive
                      if not met[c] and len(constraints[c][a].ids) > written)
        return _Hyp((*hyp.tokens, token), hyp.score + logp, met,
                    (written, going) if going else None, row, glue_forbidden=bool(completed))

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

    def _best(self, search: _Search, length_penalty: float) -> Hypothesis:
        complete = [(h.tokens, h.score) for h in search.hyps
                    if all(h.met) and h.progress is None]
        pool = search.finished or complete or [(h.tokens, h.score) for h in search.hyps]

        def normalised(item: Finished) -> float:
            return item[1] / max(1, len(item[0]) + 1) ** length_penalty

        tokens, total = max(pool, key=normalised)
        text = self.tokenizer.decode(list(tokens), skip_special_tokens=True).strip()
        return Hypothesis(text=text, score=normalised((tokens, total)))
