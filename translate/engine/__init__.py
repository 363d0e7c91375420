"""Backends by name, imported lazily so that heavy libraries load only when chosen."""

from __future__ import annotations

import importlib.util

from translate.engine.base import DecodeSettings, Engine
from translate.errors import EngineError
from translate.model import ModelRef

BACKENDS = ("auto", "transformers", "ctranslate2")
# Benchmarks only (a `DecodeSettings.extra` key): decode exactly this many tokens per sentence,
# so that every engine does the same work whatever a random-weight model predicts.
FIXED_OUTPUT_TOKENS = "bench_output_tokens"

__all__ = ["BACKENDS", "FIXED_OUTPUT_TOKENS", "DecodeSettings", "Engine", "load_engine"]


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EngineError(f"--backend {backend}: choose one of {', '.join(BACKENDS)}.")
    if backend == "auto":
        # The fast path when it is installed; transformers (always installed) otherwise.
        return "ctranslate2" if importlib.util.find_spec("ctranslate2") else "transformers"
    return backend


def load_engine(ref: ModelRef, backend: str = "auto", *, device: str = "cpu",
                quantize: str | None = None, threads: int | None = None) -> Engine:
    backend = resolve_backend(backend)
    if backend == "ctranslate2":
        if importlib.util.find_spec("ctranslate2") is None:
            raise EngineError("--backend ctranslate2 needs CTranslate2: pip install 'ruen[fast]'.")
        from translate.engine.ctranslate2 import CTranslate2Engine

        return CTranslate2Engine(ref, device=device, quantize=quantize, threads=threads)
    from translate.engine.transformers import TransformersEngine

    return TransformersEngine(ref, device=device, quantize=quantize, threads=threads)
