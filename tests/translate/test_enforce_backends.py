"""Glossary enforcement on both backends, on the tiny random-weight model.

The model cannot produce the targets by itself (its weights are random), so every target in its
output is the enforcement's doing: CTranslate2 places them by attention and forced prefixes
(`translate.engine.placement`), transformers by its constrained beam search.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch.overrides import TorchFunctionMode

from corpus.store import Archive
from corpus.types import Document, Hypothesis
from translate.engine import DecodeSettings, load_engine
from translate.engine.base import Engine, parse_device
from translate.engine.cache import ensure_converted
from translate.errors import EngineError
from translate.glossary import Entry, Glossary
from translate.glossary.verify import contains
from translate.model import resolve_model
from translate.pipeline import Pipeline

ENTRIES = [Entry("Хама", "Hama"), Entry("Дамаск", "Damascus"), Entry("Хомс", "Homs"),
           Entry("режим Асада", "the Assad regime"), Entry("коалиция", "the coalition")]
TARGETS = {e.en for e in ENTRIES}
# (sentence, the targets its terms require)
CASES = [
    ("Город Хама полностью освобожден после ожесточенных боев.", {"Hama"}),
    ("Мы продолжаем двигаться на юг, к Дамаску.", {"Damascus"}),
    ("В четверг начались новые столкновения в провинции Хомс.", {"Homs"}),
    ("Силы режима Асада отступают от Хамы к Хомсу.", {"the Assad regime", "Hama", "Homs"}),
    ("Колонна вышла из Дамаска в Хаму.", {"Damascus", "Hama"}),
    # two targets sharing their first token ("the")
    ("Коалиция воюет с режимом Асада.", {"the coalition", "the Assad regime"}),
    ("Гражданское сопротивление укрепляет революцию.", set()),
    ("Хамство и хамы не имеют отношения к городу.", set()),
]
SETTINGS = DecodeSettings(beam=2)


@pytest.fixture(scope="module", params=["ctranslate2", "transformers"])
def engine(request: pytest.FixtureRequest, tiny_model: Path) -> Engine:
    return load_engine(resolve_model(str(tiny_model)), request.param, threads=1)


def test_every_expected_target_is_placed_and_no_other(engine: Engine) -> None:
    results = Pipeline(engine, SETTINGS, glossary=Glossary(ENTRIES)).enforced(
        [s for s, _ in CASES])
    for (source, expected), result in zip(CASES, results, strict=True):
        present = {t for t in TARGETS if contains(result.en, t)}
        assert present == expected, (source, result.en)
        assert {t.en for t in result.terms} == expected
        assert {t.status for t in result.terms} <= {"enforced"}, result.terms


def test_the_first_pass_misses_the_targets_so_enforcement_placed_them(engine: Engine) -> None:
    plain = engine.translate_batch([s for s, e in CASES if e], SETTINGS)
    assert not any(contains(h.text, t) for h in plain for t in TARGETS)


def test_a_lowercase_target_is_capitalised_only_at_the_start(engine: Engine) -> None:
    [result] = Pipeline(engine, SETTINGS, glossary=Glossary(ENTRIES)).enforced(
        ["Силы режима Асада отступают от Хамы к Хомсу."])
    words = result.en.split()
    for i, word in enumerate(words):
        if word == "The":
            assert i == 0, result.en
    assert "The Assad regime" in result.en or "the Assad regime" in result.en


def test_placement_does_not_depend_on_the_order_of_the_entries(engine: Engine) -> None:
    sources = [s for s, e in CASES if len(e) > 1]
    forward = Pipeline(engine, SETTINGS, glossary=Glossary(ENTRIES)).translate(sources)
    backward = Pipeline(engine, SETTINGS, glossary=Glossary(ENTRIES[::-1])).translate(sources)
    assert [en for en, _ in forward] == [en for en, _ in backward]


@pytest.mark.parametrize("english", [
    'The coalition fought "the Assad regime."',
    "The coalition fought «the Assad regime».",
    "“The coalition” fought the Assad regime!",
])
def test_a_sentence_that_has_its_targets_is_untouched(engine: Engine, english: str) -> None:
    [result] = Glossary(ENTRIES).enforce(["Коалиция воюет с режимом Асада."],
                                         [Hypothesis(english, -1.0)], engine, SETTINGS)
    assert (result.en, result.score, result.alternatives) == (english, -1.0, ())
    assert [t.status for t in result.terms] == ["ok", "ok"]


def test_enforced_outputs_are_scored_as_a_whole(engine: Engine) -> None:
    # Hypothesis.score of an enforced output is its length-normalised log-probability, the
    # forced tokens included: unlikely tokens for a random model, so below the free output's.
    sentence = CASES[3][0]
    [free] = engine.translate_batch([sentence], SETTINGS)
    [result] = Pipeline(engine, SETTINGS, glossary=Glossary(ENTRIES)).enforced([sentence])
    assert -20 < result.score < 0
    assert result.alternatives[0].kind == "unconstrained"
    assert result.alternatives[0].en == free.text
    assert result.alternatives[0].score == pytest.approx(free.score, abs=1e-4)


def test_the_unconstrained_translation_is_in_the_history(engine: Engine, db: Path) -> None:
    text = "Город Хама полностью освобожден после ожесточенных боев. Гражданское сопротивление."
    archive = Archive(db)
    try:
        result = Pipeline(engine, SETTINGS, archive=archive,
                          glossary=Glossary(ENTRIES)).translate_document(
            Document(path="hama.txt", title="Hama", text=text))
        [free] = engine.translate_batch([result.pairs[0].ru], SETTINGS)
        history = archive.history(result.doc_id)
    finally:
        archive.close()
    first = [(e.kind, e.en, e.current) for e in history if e.index == 0]
    assert first == [("mt", result.pairs[0].en, True), ("mt, unconstrained", free.text, False)]
    assert "Hama" in result.pairs[0].en and "Hama" not in free.text
    assert [e.kind for e in history if e.index == 1] == ["mt"]  # no term: no alternative


def test_no_torch_on_the_ctranslate2_path_with_a_glossary(tiny_model: Path, tmp_path: Path,
                                                           ruen_cache: Path) -> None:
    ensure_converted(resolve_model(str(tiny_model)), "int8")  # once converted, torch-free
    document = tmp_path / "hama.ru.txt"
    document.write_text("Город Хама освобожден. Колонна вышла из Дамаска в Хаму.\n",
                        encoding="utf-8")
    code = ("import sys; from translate.cli import app; "
            "app(sys.argv[1:], standalone_mode=False); "
            "print('torch' in sys.modules, 'transformers' in sys.modules, file=sys.stderr)")
    done = subprocess.run(
        [sys.executable, "-c", code, "translate", str(document), "--model", str(tiny_model),
         "--db", str(tmp_path / "a.db"), "--format", "jsonl", "--threads", "1"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "RUEN_CACHE": str(ruen_cache), "HF_HUB_OFFLINE": "1"})
    assert done.stderr.strip().splitlines()[-1] == "False False"
    assert '"status": "enforced"' in done.stdout
    assert done.stdout.count("Hama") >= 2 and "Damascus" in done.stdout


def test_a_target_the_vocabulary_cannot_spell_stays_missing(engine: Engine) -> None:
    # `Ж` is not in the tiny English vocabulary: nothing is pasted in, the term is reported
    [(english, terms)] = Pipeline(engine, SETTINGS, glossary=Glossary([Entry("Хама", "Жama")])
                                  ).translate(["Город Хама освобожден."])
    assert "Жama" not in english
    assert [(t.ru, t.en, t.status) for t in terms] == [("Хама", "Жama", "missing")]


def test_constrained_decoding_without_targets_is_greedy_search(tiny_model: Path) -> None:
    from translate.engine.constrained import ConstrainedDecoder

    engine = load_engine(resolve_model(str(tiny_model)), "transformers")
    decoder = ConstrainedDecoder(engine.model, engine.tokenizer)
    sentence = CASES[0][0]
    plain = engine.translate_batch([sentence], DecodeSettings(beam=1, length_slack=5,
                                                              length_ratio=0))
    assert decoder.translate(sentence, [], beam=1, max_new_tokens=4).text == plain[0].text


def test_a_constraint_without_a_known_source_place_is_still_placed(engine: Engine) -> None:
    out = engine.translate_constrained(CASES[0][0], ["Hama"], SETTINGS)
    assert contains(out.text, "Hama")



def test_placement_does_not_depend_on_the_order_of_the_targets(engine: Engine) -> None:
    # "the coalition" and "the Assad regime" share their first token
    sentence = "Коалиция воюет с режимом Асада, Хама и Хомс."
    targets = ["the coalition", "the Assad regime", "Hama", "Homs"]
    outputs = {engine.translate_constrained(sentence, order, SETTINGS).text
               for order in (targets, targets[::-1], targets[1:] + targets[:1])}
    assert len(outputs) == 1
    [out] = outputs
    assert all(contains(out, t) for t in targets), out


# ---------------------------------------------------------------- devices (transformers)

class _OnlyMeta(TorchFunctionMode):
    """Fails on any torch call given or making a tensor off the `meta` device."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (),
                           kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        for value in [*args, *(kwargs or {}).values(), result]:
            for tensor in value if isinstance(value, tuple | list) else [value]:
                if isinstance(tensor, torch.Tensor) and tensor.device.type != "meta":
                    raise AssertionError(f"{func}: a tensor on {tensor.device}")
        return result


class _MetaMarian:
    """A Marian stand-in living on the `meta` device (tensors with shapes, no values, as a GPU
    model's are out of the CPU's reach): it refuses inputs from any other device."""

    device = torch.device("meta")

    def __init__(self, config: Any) -> None:
        self.config = config
        self.reordered: list[torch.device] = []

    @staticmethod
    def _check(**tensors: Any) -> None:
        for name, value in tensors.items():
            if isinstance(value, torch.Tensor) and value.device.type != "meta":
                raise AssertionError(f"{name} on {value.device}")

    def get_encoder(self) -> Any:
        def encode(input_ids: Any, attention_mask: Any) -> Any:
            self._check(input_ids=input_ids, attention_mask=attention_mask)
            shape = (*input_ids.shape, self.config.d_model)
            return SimpleNamespace(last_hidden_state=torch.zeros(shape, device="meta"))
        return encode

    def forward(self, encoder_outputs: Any, attention_mask: Any, decoder_input_ids: Any,
                use_cache: bool = True, cache: Any = None) -> Any:
        self._check(hidden=encoder_outputs.last_hidden_state, attention_mask=attention_mask,
                    decoder_input_ids=decoder_input_ids)
        rows = decoder_input_ids.shape[0]
        logits = torch.zeros(rows, 1, self.config.vocab_size, device="meta")
        return SimpleNamespace(logits=logits, cache=SimpleNamespace(
            reorder_cache=lambda index: self.reordered.append(index.device)))

    __call__ = forward


def test_every_tensor_of_the_constrained_decoder_is_on_the_model_device(
        tiny_model: Path) -> None:
    from transformers import MarianConfig, MarianTokenizer

    from translate.engine.constrained import ConstrainedDecoder

    model = _MetaMarian(MarianConfig.from_pretrained(tiny_model))
    decoder = ConstrainedDecoder(model, MarianTokenizer.from_pretrained(tiny_model))
    assert decoder._glued.device.type == "meta"
    hidden, mask, _ = decoder._encode([CASES[0][0], CASES[3][0]])
    assert (hidden.device.type, mask.device.type) == ("meta", "meta")
    searches = [_search(decoder, row, ["Hama", "the Assad regime"]) for row in range(2)]
    rows = [(s, h) for s in searches for h in s.hyps]
    with _OnlyMeta():  # every step of the search: decoder call, scores, masks, best tokens
        logp, cache = decoder._step(hidden, mask, rows, [], None)
        decoder._step(hidden, mask, rows + rows[:1], [0, 1, 1], cache)
        selected = decoder._select(logp, rows, [0, 1], [5, 7], 3)
    assert [t.device.type for t in (logp, *selected)] == ["meta"] * 4
    assert model.reordered == [torch.device("meta")]


def _search(decoder: Any, row: int, targets: list[str]) -> Any:
    from translate.engine.constrained import _Hyp, _Search

    constraints = [decoder.alternatives(t) for t in targets]
    return _Search(row, constraints, 2, 20, [_Hyp((), 0.0, (False,) * len(targets), None, 0)])


@pytest.mark.parametrize(("device", "parsed"), [
    ("cpu", ("cpu", 0)), ("cuda", ("cuda", 0)), ("cuda:1", ("cuda", 1)), ("CUDA:2", ("cuda", 2)),
])
def test_devices_are_parsed(device: str, parsed: tuple[str, int]) -> None:
    assert parse_device(device) == parsed


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "cpu:1", "cuda1", ""])
def test_a_bad_device_is_a_user_error(device: str) -> None:
    with pytest.raises(EngineError, match="choose cpu, cuda or cuda:N"):
        parse_device(device)


def test_cuda_1_reaches_the_second_gpu(tiny_model: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    # No GPU here: torch is told there are two, and where the model is moved is recorded.
    from translate.engine.transformers import TransformersEngine

    moved: list[str] = []

    def to(self: torch.nn.Module, *args: Any, **kwargs: Any) -> torch.nn.Module:
        moved.append(str(args[0] if args else kwargs.get("device")))
        return self

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.nn.Module, "to", to)
    engine = TransformersEngine(resolve_model(str(tiny_model)), device="cuda:1",
                                quantize="float32")
    assert engine.device == "cuda:1" and moved == ["cuda:1"]
    with pytest.raises(EngineError, match="2 CUDA GPU"):
        TransformersEngine(resolve_model(str(tiny_model)), device="cuda:2")


def test_show_history_lists_the_unconstrained_translation(tiny_model: Path, db: Path,
                                                          tmp_path: Path, runner) -> None:
    from translate.cli import app

    glossary = tmp_path / "mine.tsv"
    glossary.write_text("ru\ten\nХама\tHama\n", encoding="utf-8")
    source = tmp_path / "hama.ru.txt"
    source.write_text("Город Хама освобожден.\n", encoding="utf-8")
    done = runner.invoke(app, ["translate", str(source), "--model", str(tiny_model), "--db",
                               str(db), "--no-glossary", "--glossary", str(glossary)])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["show", "1", "--history", "--json", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    entries = json.loads(shown.stdout)
    assert [(e["kind"], e["current"], "Hama" in e["en"]) for e in entries] == [
        ("mt", True, True), ("mt, unconstrained", False, False)]
    assert entries[1]["score"] < 0 and entries[0]["score"] is None
