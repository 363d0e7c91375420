"""A sentence's output cap is its own, whatever else shares its batch.

The random-weight model never ends a sentence by itself, so every output runs to its cap: if a
short sentence inherited a long neighbour's cap, its translation would grow with the batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from translate.engine import DecodeSettings, load_engine
from translate.model import resolve_model

SHORT = "Город освобожден."
LONG = " ".join(["Революционные силы продолжают двигаться на юг к Дамаску"] * 6) + "."


@pytest.mark.parametrize("backend", ["transformers", "ctranslate2"])
def test_short_sentence_translates_the_same_beside_a_long_one(tiny_model: Path,
                                                              backend: str) -> None:
    engine = load_engine(resolve_model(str(tiny_model)), backend)
    settings = DecodeSettings(beam=1)
    alone = engine.translate_batch([SHORT], settings)[0].text
    together = engine.translate_batch([LONG, SHORT], settings)[1].text
    assert together == alone
    assert engine.translate_batch([LONG], settings)[0].text != alone
