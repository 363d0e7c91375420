"""The constrained beam search itself, on a scripted model whose preferences are known.

The scripted model scores the next token from the previous one (tables below), so the best
output with a constraint can be worked out by hand: these tests show where the search puts a target,
not just that it is somewhere.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch

from translate.engine.constrained import ConstrainedDecoder

PIECES = ["</s>", "<unk>", "<pad>", "▁the", "▁city", "▁fell", "▁Assad", "▁regime", "▁The",
          "▁and", "s"]
ID = {p: i for i, p in enumerate(PIECES)}


class ScriptedTokenizer:
    unk_token_id = ID["<unk>"]

    def __len__(self) -> int:
        return len(PIECES)

    def __call__(self, texts: Any = None, *, text_target: str | None = None, **_: Any) -> Any:
        if text_target is not None:
            return {"input_ids": [ID.get("▁" + w, self.unk_token_id)
                                  for w in text_target.split()]}
        return {"input_ids": torch.tensor([[4, 5, 0]]),
                "attention_mask": torch.ones(1, 3, dtype=torch.long)}

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [PIECES[i] for i in ids]

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        text = "".join(PIECES[i] for i in ids if i > ID["<pad>"])
        return text.replace("▁", " ").strip()


Script = dict[str, dict[str, float]]


class ScriptedModel:
    """A bigram model: after token `p` it prefers the tokens in `bigram[p]` (log-odds as
    given; everything else -8); `by_step[n]`, when given, overrides step n for every row."""

    def __init__(self, bigram: Script, by_step: dict[int, dict[str, float]] | None = None
                 ) -> None:
        self.bigram, self.by_step = bigram, by_step or {}
        self.config = SimpleNamespace(eos_token_id=0, pad_token_id=2, decoder_start_token_id=2,
                                      vocab_size=len(PIECES))
        self.step = 0

    def get_encoder(self) -> Any:
        def encode(**_: Any) -> Any:
            self.step = 0
            return SimpleNamespace(last_hidden_state=torch.zeros(1, 3, 4))
        return encode

    def forward(self, encoder_outputs: Any = None, attention_mask: Any = None,
                decoder_input_ids: Any = None, use_cache: bool = True, cache: Any = None) -> Any:
        rows = decoder_input_ids.shape[0]
        logits = torch.full((rows, 1, len(PIECES)), -8.0)
        for row in range(rows):
            last = PIECES[int(decoder_input_ids[row, -1])]
            preferred = self.by_step.get(self.step, self.bigram.get(last, {}))
            for piece, value in preferred.items():
                logits[row, 0, ID[piece]] = value
        self.step += 1
        return SimpleNamespace(logits=logits, cache=SimpleNamespace(reorder_cache=lambda i: None))

    __call__ = forward


def decode(bigram: Script, targets: list[str], beam: int = 3,
           by_step: dict[int, dict[str, float]] | None = None) -> str:
    decoder = ConstrainedDecoder(ScriptedModel(bigram, by_step), ScriptedTokenizer())
    return decoder.translate("…", targets, beam=beam, max_new_tokens=10).text


# the model's own sentence: "the city fell and the regime fell"
SENTENCE: Script = {"<pad>": {"▁the": 5}, "▁the": {"▁regime": 5, "▁Assad": 2},
                    "▁city": {"▁fell": 5}, "▁fell": {"</s>": 5}, "▁and": {"▁the": 5},
                    "▁Assad": {"▁regime": 5}, "▁regime": {"▁fell": 5}}
SENTENCE_STEPS = {1: {"▁city": 5}, 3: {"▁and": 5}}


def test_without_targets_the_model_says_what_it_prefers() -> None:
    assert decode(SENTENCE, [], by_step=SENTENCE_STEPS) == "the city fell and the regime fell"


def test_a_target_goes_where_the_model_likes_it_best() -> None:
    # "Assad" is plausible only after the second "the": the target lands there, and the
    # first "the" (the model's own) does not have to begin it
    assert decode(SENTENCE, ["the Assad regime"], by_step=SENTENCE_STEPS) == (
        "the city fell and the Assad regime fell")


def test_a_lowercase_target_may_open_the_sentence_capitalised() -> None:
    script = {"<pad>": {"▁The": 5, "▁the": -2}, "▁The": {"▁Assad": 3}, "▁the": {"▁Assad": 3},
              "▁Assad": {"▁regime": 5}, "▁regime": {"▁fell": 5}, "▁fell": {"</s>": 5}}
    assert decode(script, ["the Assad regime"]) == "The Assad regime fell"


def test_a_target_is_placed_even_when_the_model_never_wants_it() -> None:
    script = {"<pad>": {"▁city": 5}, "▁city": {"▁fell": 5}, "▁fell": {"</s>": 5}}
    out = decode(script, ["Assad"])
    assert "Assad" in out.split()
    assert out.count("Assad") == 1


def test_nothing_glues_onto_a_finished_target() -> None:
    # the model would write "Assads" ("▁Assad" + "s"); after a target a glued piece is barred
    script = {"<pad>": {"▁Assad": 5}, "▁Assad": {"s": 6, "▁fell": 4}, "s": {"</s>": 5},
              "▁fell": {"</s>": 5}}
    assert decode(script, ["Assad"]) == "Assad fell"
    assert decode(script, []) == "Assads"


@pytest.mark.parametrize("beam", [1, 2, 4])
def test_every_target_fits_even_in_a_short_budget(beam: int) -> None:
    script = {"<pad>": {"▁city": 5}, "▁city": {"▁city": 5}}  # "city city city …"
    decoder = ConstrainedDecoder(ScriptedModel(script), ScriptedTokenizer())
    out = decoder.translate("…", ["the Assad regime", "fell"], beam=beam,
                            max_new_tokens=6).text
    assert "the Assad regime" in out.replace("The", "the") and "fell" in out.split()
