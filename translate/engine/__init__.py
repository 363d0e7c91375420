"""Backends by name, imported lazily so that heavy libraries load only when chosen."""

from __future__ import annotations

import importlib.util

from translate.engine.base import DecodeSettings, Engine
from translate.errors import EngineError
from translate.model import ModelRef

BACKENDS = ("auto", "transformers", "ctranslate2")

__all__ = ["BACKENDS", "DecodeSettings", "Engine", "load_engine"]


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise EngineError(f"--backend {backend}: choose one of {', '.join(BACKENDS)}.")
    if backend == "auto":
        # The CTranslate2 fast path is chosen by `auto` once its engine lands (issue 6).
        return "transformers"
    return backend


def load_engine(ref: ModelRef, backend: str = "auto", *, device: str = "cpu",
                quantize: str | None = None, threads: int | None = None) -> Engine:
    backend = resolve_backend(backend)
    if backend == "ctranslate2":
        if importlib.util.find_spec("ctranslate2") is None:
            raise EngineError("--backend ctranslate2 needs CTranslate2: pip install 'ruen[fast]'.")
        raise EngineError("the ctranslate2 backend is not available yet.")
    from translate.engine.transformers import TransformersEngine

    return TransformersEngine(ref, device=device, quantize=quantize, threads=threads)
