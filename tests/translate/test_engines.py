"""Backends: CTranslate2 and transformers translate alike, order survives batching, the converted
model is cached and reused (constrained decoding: tests/translate/test_enforce_backends.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from translate.cli import app
from translate.engine import DecodeSettings, load_engine, resolve_backend
from translate.engine.cache import MANIFEST, cache_dir, ensure_converted
from translate.engine.ctranslate2 import CTranslate2Engine, MarianPieces
from translate.engine.transformers import TransformersEngine
from translate.errors import EngineError
from translate.model import ModelRef, resolve_model
from translate.pipeline import Pipeline
from translate.testing import build_marian

SENTENCES = [
    "Силы режима отступают под давлением повстанцев.",
    "Город Хама полностью освобожден.",
    "Мы продолжаем двигаться на юг, к Дамаску, и дальше — к границе.",
    "В четверг начались новые столкновения.",
    "Коалиция взяла полный контроль над несколькими деревнями в провинции Хомс, "
    "сообщил представитель командования.",
    "Да.",
]
RU = [
    *SENTENCES[:5],
    "Министр обороны заявил о тактическом отступлении.",
    "Подкрепления направлены для обеспечения безопасности района.",
    "Революционные силы находятся в десяти километрах от города.",
    "Гражданское сопротивление укрепляет революцию.",
    "Представитель командования подтвердил освобождение города.",
]
EN = ["Regime forces are retreating under rebel pressure.", "Hama has been liberated.",
      "We continue south, towards Damascus, and on to the border.", "New clashes began.",
      "The coalition took control of several villages in Homs province, a spokesman said.",
      "The defence minister announced a tactical retreat.",
      "Reinforcements have been sent to secure the area.",
      "The revolutionary forces are ten kilometres from the city.",
      "Civil resistance strengthens the revolution.",
      "A command spokesman confirmed the liberation of the city."]
# Text the tiny vocabulary has never seen: Latin, digits, quotes, symbols, an emoji.
ODD = ["«Ёлки» — 2024 г., 15% NATO; ID#7 ☺", "  двойные   пробелы  ", ">>en<< Хама"]


@pytest.fixture(scope="module", autouse=True)
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """RUEN_CACHE for the module-scoped engines below, which are built before the per-test
    `ruen_cache` fixture of conftest applies: they must not convert into the user's cache."""
    cache = tmp_path_factory.mktemp("engines-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUEN_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def ref(tiny_model: Path) -> ModelRef:
    return resolve_model(str(tiny_model))


@pytest.fixture(scope="module")
def torch_engine(ref: ModelRef) -> TransformersEngine:
    return TransformersEngine(ref)


@pytest.fixture(scope="module")
def ct2_float32(ref: ModelRef) -> CTranslate2Engine:
    return CTranslate2Engine(ref, quantize="float32", threads=1)


@pytest.fixture(scope="module")
def attentive(tmp_path_factory: pytest.TempPathFactory) -> tuple[TransformersEngine,
                                                                 CTranslate2Engine]:
    """Both engines on a tiny model whose output depends on its input: with the usual small
    random weights, every sentence comes out the same and order could not be seen."""
    out = build_marian(tmp_path_factory.mktemp("models") / "attentive", RU * 20, EN * 20,
                       init_std=0.3)
    ref = resolve_model(str(out))
    return TransformersEngine(ref), CTranslate2Engine(ref, quantize="float32", threads=1)


# ---------------------------------------------------------------- same translations, two backends

@pytest.mark.parametrize("model", ["tiny", "attentive"])
def test_ctranslate2_float32_greedy_translates_as_transformers_does(
        torch_engine: TransformersEngine, ct2_float32: CTranslate2Engine,
        attentive: tuple[TransformersEngine, CTranslate2Engine], model: str) -> None:
    theirs_engine, ours_engine = (torch_engine, ct2_float32) if model == "tiny" else attentive
    settings = DecodeSettings(beam=1)
    ours = ours_engine.translate_batch(RU + SENTENCES, settings)
    theirs = theirs_engine.translate_batch(RU + SENTENCES, settings)
    assert [h.text for h in ours] == [h.text for h in theirs]
    # The same length-normalised log-probability. Sentence by sentence: CTranslate2's scores
    # move by up to 0.05 with the padding of a batch (the outputs do not); transformers scores
    # each output in a pass of its own (translate.engine.transformers.score), padding-free.
    alone = [ours_engine.translate_batch([s], settings)[0] for s in RU + SENTENCES]
    for a, b in zip(alone, theirs, strict=True):
        assert a.score == pytest.approx(b.score, abs=0.01)


def test_ctranslate2_float32_beam_search_agrees_with_transformers(
        attentive: tuple[TransformersEngine, CTranslate2Engine]) -> None:
    # Not asserted for the plain tiny model: its degenerate, never-ending outputs are where the
    # two beam searches' stopping rules differ, near the length cap.
    theirs_engine, ours_engine = attentive
    settings = DecodeSettings(beam=2)
    ours = ours_engine.translate_batch(RU, settings)
    theirs = theirs_engine.translate_batch(RU, settings)
    assert [h.text for h in ours] == [h.text for h in theirs]


def test_source_pieces_match_the_marian_tokenizer(torch_engine: TransformersEngine,
                                                  ref: ModelRef) -> None:
    tokenizer = torch_engine.tokenizer
    pieces = MarianPieces(ref.path)
    for text in SENTENCES + ODD:
        expected = tokenizer.convert_ids_to_tokens(tokenizer(text).input_ids)
        assert pieces.encode([text])[0] == expected, text
    assert [len(p) for p in pieces.encode(SENTENCES)] == torch_engine.count_tokens(SENTENCES)


def test_detokenized_output_matches_the_marian_tokenizer(torch_engine: TransformersEngine,
                                                         ref: ModelRef) -> None:
    tokenizer = torch_engine.tokenizer
    pieces = MarianPieces(ref.path)
    rng = random.Random(3)
    for _ in range(30):
        ids = [rng.randrange(len(tokenizer)) for _ in range(rng.randrange(1, 15))]
        tokens = tokenizer.convert_ids_to_tokens(ids)
        assert pieces.decode(tokens) == tokenizer.decode(ids, skip_special_tokens=True).strip()


def test_translating_nothing_gives_nothing(ct2_float32: CTranslate2Engine) -> None:
    assert ct2_float32.translate_batch([], DecodeSettings()) == []
    assert ct2_float32.count_tokens([]) == []


# ---------------------------------------------------------------- batching keeps the order

def test_token_budget_batches_come_back_in_document_order(
        attentive: tuple[TransformersEngine, CTranslate2Engine]) -> None:
    engine = attentive[1]
    sources = [s for s in RU if len(s) > 50][:4] + SENTENCES[:1] + RU[::-1]
    # A budget small enough for several batches of mixed lengths, sorted longest first inside.
    # The output length is fixed: a random model rarely stops, so its length cap (which depends
    # on the longest sentence in a batch) would otherwise tell the batches apart.
    settings = DecodeSettings(beam=1, max_batch_tokens=80, extra={"bench_output_tokens": 20})
    pipeline = Pipeline(engine, settings)
    batches: list[int] = []
    pipeline.on_progress = batches.append
    alone = {s: engine.translate_batch([s], settings)[0].text for s in sources}
    assert len(set(alone.values())) >= 4  # enough different outputs for a swap to show
    assert [en for en, _ in pipeline.translate(sources)] == [alone[s] for s in sources]
    assert len(batches) > 2


def test_batches_cut_to_the_memory_budget_keep_their_order(
        attentive: tuple[TransformersEngine, CTranslate2Engine],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import translate.engine.ctranslate2 as ct2

    engine = attentive[1]
    settings = DecodeSettings(beam=2, extra={"bench_output_tokens": 20})
    sources = RU[::-1] + SENTENCES
    whole = engine.translate_batch(sources, settings)
    monkeypatch.setattr(ct2, "DECODE_MEMORY_MB", 10)  # a few sentences per decoding call
    encoded = engine.pieces.encode(sources)
    assert len(engine._chunks(encoded, 2, {"min_decoding_length": 20}, 10)) > 3
    # --batch-tokens scales the budget: a bigger one decodes more sentences at once.
    assert len(engine._chunks(encoded, 2, {"min_decoding_length": 20}, 40)) < \
        len(engine._chunks(encoded, 2, {"min_decoding_length": 20}, 10))
    cut = engine.translate_batch(sources, settings)
    assert [h.text for h in cut] == [h.text for h in whole]
    assert [h.score for h in cut] == pytest.approx([h.score for h in whole], abs=1e-4)


def test_two_translations_side_by_side_change_nothing_but_speed(
        attentive: tuple[TransformersEngine, CTranslate2Engine],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import translate.engine.ctranslate2 as ct2

    alone = attentive[1]
    side_by_side = CTranslate2Engine(alone.ref, quantize="float32", threads=2)
    assert (side_by_side.workers, alone.workers) == (2, 1)
    settings = DecodeSettings(beam=2, max_batch_tokens=80, extra={"bench_output_tokens": 20})
    sources = RU[::-1] + SENTENCES + RU
    expected = [h.text for h in alone.translate_batch(sources, settings)]
    # Several batches of several chunks each: every batch is queued before the one before it
    # is handed back, and chunks finish in any order.
    monkeypatch.setattr(ct2, "DECODE_MEMORY_MB", 10)
    batches: list[int] = []
    pipeline = Pipeline(side_by_side, settings)
    pipeline.on_progress = batches.append
    assert [en for en, _ in pipeline.translate(sources)] == expected
    assert len(batches) > 2


def test_output_length_cap_is_the_same_on_both_backends(
        torch_engine: TransformersEngine, ct2_float32: CTranslate2Engine) -> None:
    # A random model rarely stops by itself, so it runs into the cap: both stop at the same place.
    settings = DecodeSettings(beam=1, length_ratio=0.2, length_slack=3)
    ours = ct2_float32.translate_batch(SENTENCES[:3], settings)
    theirs = torch_engine.translate_batch(SENTENCES[:3], settings)
    assert [h.text for h in ours] == [h.text for h in theirs]


# ---------------------------------------------------------------- the converted-model cache

def test_converted_model_is_cached_and_reused(ref: ModelRef, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEN_CACHE", str(tmp_path / "cache"))
    first = CTranslate2Engine(ref, quantize="int8", threads=1)
    assert first.converted.converted
    assert first.converted.path == cache_dir(ref, "int8")
    assert first.converted.path.is_relative_to(tmp_path / "cache" / "ct2")
    stamp = (first.converted.path / "model.bin").stat().st_mtime_ns

    second = CTranslate2Engine(ref, quantize="int8", threads=1)
    assert not second.converted.converted
    assert (second.converted.path / "model.bin").stat().st_mtime_ns == stamp
    assert second.translate_batch(SENTENCES[:2], DecodeSettings(beam=1)) == \
        first.translate_batch(SENTENCES[:2], DecodeSettings(beam=1))
    # Another quantisation is another conversion, next to the first.
    assert ensure_converted(ref, "float32").converted
    assert sorted(p.name.rsplit("--", 1)[1] for p in (tmp_path / "cache" / "ct2").iterdir()) \
        == ["float32", "int8"]


def test_interrupted_conversion_is_redone(ref: ModelRef, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEN_CACHE", str(tmp_path))
    half = cache_dir(ref, "int8")
    half.mkdir(parents=True)
    (half / "model.bin").write_bytes(b"half a model")  # no manifest: the run was killed
    result = ensure_converted(ref, "int8")
    assert result.converted and (result.path / MANIFEST).is_file()
    assert (result.path / "model.bin").stat().st_size > 1000


def test_another_revision_of_the_same_model_is_converted_again(
        ref: ModelRef, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEN_CACHE", str(tmp_path))
    newer = ModelRef(name=ref.name, path=ref.path, revision="another-commit")
    assert cache_dir(newer, "int8") != cache_dir(ref, "int8")
    assert ensure_converted(ref, "int8").converted
    assert ensure_converted(newer, "int8").converted
    assert not ensure_converted(newer, "int8").converted


def test_model_convert_command_converts_once(runner, ref: ModelRef, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEN_CACHE", str(tmp_path))
    first = runner.invoke(app, ["model", "convert", "--model", str(ref.path)])
    assert first.exit_code == 0, first.output
    assert "(int8, converted)" in first.output
    assert str(cache_dir(ref, "int8")) in first.output.replace("\n", "")
    again = runner.invoke(app, ["model", "convert", "--model", str(ref.path)])
    assert "already converted" in again.output


def test_unknown_quantisation_is_a_one_line_error(runner, ref: ModelRef) -> None:
    result = runner.invoke(app, ["model", "convert", "--model", str(ref.path),
                                 "--quantize", "int4"])
    assert result.exit_code == 2
    assert "'--quantize': 'int4' is not one of int8" in result.output
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output


# ---------------------------------------------------------------- choosing and configuring

def test_auto_prefers_ctranslate2_and_falls_back_to_transformers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("auto") == "ctranslate2"
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ctranslate2" else real(name, *a))
    assert resolve_backend("auto") == "transformers"
    with pytest.raises(EngineError, match=r"pip install 'ruen\[fast\]'"):
        load_engine(ModelRef("m", Path("."), "r"), "ctranslate2")


def test_default_engine_is_int8_ctranslate2_and_says_so_in_provenance(ref: ModelRef) -> None:
    engine = load_engine(ref, threads=1)
    assert isinstance(engine, CTranslate2Engine)
    system = engine.system(DecodeSettings())
    assert system.backend == "ctranslate2"
    assert system.settings["quantize"] == "int8"
    assert system.settings["beam"] == 2  # the tiny model's generation config
    assert system.settings["constrained"] == "placement"


def test_transformers_int8_translates(ref: ModelRef, torch_engine: TransformersEngine) -> None:
    engine = TransformersEngine(ref, quantize="int8", threads=1)
    out = engine.translate_batch(SENTENCES[:3], DecodeSettings(beam=1))
    assert len(out) == 3 and all(h.text for h in out)
    assert engine.system(DecodeSettings()).settings["quantize"] == "int8"
    assert "quantize" not in torch_engine.system(DecodeSettings()).settings


@pytest.mark.parametrize(("backend", "quantize", "message"), [
    ("transformers", "int4", "--quantize int4"),
    ("ctranslate2", "int4", "--quantize int4"),
])
def test_bad_engine_options_are_user_errors(ref: ModelRef, backend: str, quantize: str,
                                            message: str) -> None:
    with pytest.raises(EngineError, match=message):
        load_engine(ref, backend, quantize=quantize)


def test_cuda_without_a_gpu_is_a_user_error(ref: ModelRef) -> None:
    with pytest.raises(EngineError, match="--device cuda"):
        load_engine(ref, "ctranslate2", device="cuda")


def test_fixed_output_length_for_benchmarks_is_honoured_by_both(
        torch_engine: TransformersEngine, ct2_float32: CTranslate2Engine) -> None:
    settings = DecodeSettings(beam=1, extra={"bench_output_tokens": 7})
    ours = ct2_float32.translate_batch(SENTENCES[:2], settings)
    theirs = torch_engine.translate_batch(SENTENCES[:2], settings)
    assert [h.text for h in ours] == [h.text for h in theirs]


# ---------------------------------------------------------------- translation memory skips loading

def test_document_covered_by_translation_memory_never_loads_the_weights(
        ref: ModelRef, db: Path) -> None:
    from corpus.store import Archive
    from corpus.types import Document

    document = Document(path="a.txt", title="a", text=" ".join(SENTENCES[:3]))
    archive = Archive(db)
    try:
        first = Pipeline(CTranslate2Engine(ref, threads=1), DecodeSettings(beam=1),
                         archive=archive)
        stored = first.translate_document(document)
        again = Pipeline(CTranslate2Engine(ref, threads=1), DecodeSettings(beam=1),
                         archive=archive)
        reused = again.translate_document(document)
    finally:
        archive.close()
    assert reused.reused == 3
    assert [p.en for p in reused.pairs] == [p.en for p in stored.pairs]
    assert again.engine._translator is None  # the model file was never read
