"""Converted CTranslate2 models, cached on disk by model name, revision and quantisation.

Converting opus-mt-ru-en takes seconds and needs torch + transformers; loading the converted model
takes a fraction of a second and needs neither. So a model is converted once, on first use (or by
`ruen model convert`), into `<cache>/ct2/<name>--<revision>--<quantisation>/`, and every later run
loads it from there. `<cache>` is `RUEN_CACHE` when set, else the per-user cache directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from translate.errors import EngineError
from translate.model import ModelRef

log = logging.getLogger(__name__)

# What CTranslate2 can store a Marian model as (`TransformersConverter.convert(quantization=)`).
QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
                 "bfloat16", "float32")
# Written last into a converted directory: a directory without it is an interrupted conversion.
MANIFEST = "ruen.json"


@dataclass(frozen=True)
class ConvertedModel:
    """A CTranslate2 model directory, and whether this call had to create it."""

    path: Path
    quantization: str
    converted: bool


def cache_root() -> Path:
    """Where ruen keeps caches: `RUEN_CACHE`, else the platform's per-user cache directory."""
    if configured := os.environ.get("RUEN_CACHE"):
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ruen"))


def cache_dir(ref: ModelRef, quantization: str) -> Path:
    """The directory a model converted with `quantization` lives in (whether or not it exists)."""
    # Readable slug for people browsing the cache, plus a hash so two names never collide.
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ref.name).strip("-.")[-60:] or "model"
    digest = hashlib.sha256(f"{ref.name}\n{ref.revision}".encode()).hexdigest()[:10]
    revision = re.sub(r"[^A-Za-z0-9._-]+", "-", ref.revision)[:16] or "none"
    return cache_root() / "ct2" / f"{slug}--{revision}-{digest}--{quantization}"


def is_converted(path: Path) -> bool:
    return (path / MANIFEST).is_file() and (path / "model.bin").is_file()


def ensure_converted(ref: ModelRef, quantization: str = "int8", *,
                     force: bool = False) -> ConvertedModel:
    """The cached CTranslate2 conversion of `ref`, converting it first if it is not cached yet
    (or if `force`). Safe when two processes convert the same model at once: each converts into
    a private directory and the first to finish moves it into place."""
    if quantization not in QUANTIZATIONS:
        raise EngineError(f"--quantize {quantization}: CTranslate2 takes one of "
                          f"{', '.join(QUANTIZATIONS)}.")
    target = cache_dir(ref, quantization)
    if is_converted(target) and not force:
        return ConvertedModel(target, quantization, converted=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _convert(ref, work / "model", quantization)
        if target.exists() and (force or not is_converted(target)):
            shutil.rmtree(target, ignore_errors=True)  # an older or an interrupted conversion
        try:
            (work / "model").rename(target)
        except OSError:  # another process finished first: its copy is as good as ours
            if not is_converted(target):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ConvertedModel(target, quantization, converted=True)


def _convert(ref: ModelRef, out: Path, quantization: str) -> None:
    log.info("converting %s to CTranslate2 (%s) in %s", ref.name, quantization, out)
    try:
        import ctranslate2
        import transformers
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        raise EngineError("converting a model for CTranslate2 needs ctranslate2 and "
                          "transformers: pip install 'ruen[fast]'.") from None
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    try:
        TransformersConverter(str(ref.path), low_cpu_mem_usage=True).convert(
            str(out), quantization=quantization)
    except Exception as exc:  # the converter raises many kinds; all mean "not convertible"
        raise EngineError(f"{ref.path}: CTranslate2 cannot convert this model "
                          f"({type(exc).__name__}: {exc}); use --backend transformers.") from None
    manifest = {"model": ref.name, "revision": ref.revision, "source": str(ref.path),
                "quantization": quantization, "ctranslate2": ctranslate2.__version__}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
