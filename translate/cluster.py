"""`ruen translate --ray`: the same pipeline with decoding spread over a Ray cluster.

The driver reads and segments the inputs with the local run's code (`translate.job`), consults
translation memory (`Pipeline.plan`), and sends each document's remaining sentences through Ray
Data's `map_batches` to a pool of actors, each holding one loaded engine, the glossary and the
QA checks; an actor runs `Pipeline.enforced` and `Pipeline.decoded` on them, the very calls a
local run makes for that document, so the batches it decodes are the local run's batches and
the output is the same sentence for sentence (decoding depends on a batch's neighbours through
padding: that is why the unit sent is a document's sentences, never a mix of documents). Each
document is stored in input order with `Pipeline.finish`, one transaction per document, as the
local run does: on SQLite by the driver (one writer to the file); on PostgreSQL by a writer
actor (`DocumentWriter`) that holds its own connection, so that the driver only plans, counts
and reports. The writes stay in input order on one writer because a document's re-plan must
see the documents before it stored (below), and so the ids are the local run's. The driver
never decodes, and checks nothing the actors checked, so that one driver can keep many actors
busy.

Within a run a sentence repeated in a later document is not sent again: the local run would
find it in memory, stored by the earlier document, so `plan` leaves it as `pending`, and when the
later document is stored (after the earlier one) `plan` is asked again against the archive and
finds it there.

Faults are Ray's to handle: an actor that dies is restarted and its batch retried (Ray Data's
actor pools restart without limit). The driver holds a window of documents at a time; a driver
that dies loses at most the documents not stored yet, and the same command run again finds the
stored ones in memory (nothing of them is sent) and stores nothing twice.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from corpus.errors import InputError
from corpus.sources import SourceOptions
from corpus.text import normalize_source
from corpus.types import Document, Segment, SentencePair, System
from translate.engine import load_engine
from translate.engine.base import DecodeSettings, Engine
from translate.errors import ClusterError
from translate.job import JobReport, documents, finished, read_inputs
from translate.model import ModelRef
from translate.pipeline import (
    Check,
    DocumentPlan,
    DocumentResult,
    Interrupted,
    Pipeline,
    TermPolicy,
)

LOCAL = "local"  # `--ray local`: start a Ray instance on this machine for this run
DOCUMENTS_PER_CALL = 4  # documents an actor translates per call (retried together)
WINDOW = 1000  # documents read, planned and sent at a time: the driver's memory stays bounded


@dataclass(frozen=True)
class EngineSpec:
    """How to load the engine: sent to every actor, which loads its own."""

    ref: ModelRef
    backend: str = "auto"
    device: str = "cpu"
    quantize: str | None = None
    threads: int | None = None

    def load(self) -> Engine:
        return load_engine(self.ref, self.backend, device=self.device, quantize=self.quantize,
                           threads=self.threads)


@dataclass(frozen=True)
class RayOptions:
    address: str = LOCAL  # `local`, `auto` (the cluster started on this machine) or an address
    actors: int | None = None  # default: one per GPU (`--device cuda`), else one
    documents_per_call: int = DOCUMENTS_PER_CALL
    window: int = WINDOW
    temp_dir: str | None = None  # Ray's session files for a `local` instance (default /tmp/ray)


class DocumentTranslator:
    """A Ray actor: one loaded engine, the glossary and the QA checks. Gets a document's
    sentences left to the model, returns them translated, checked and recorded under `system`
    (the driver's: the one its archive stores) as `Pipeline.decoded` pairs."""

    def __init__(self, spec: EngineSpec, settings: DecodeSettings,
                 glossary: TermPolicy | None, checks: Sequence[Check], system: System) -> None:
        self.pipeline = Pipeline(spec.load(), settings, glossary=glossary, checks=checks,
                                 recorded_system=system)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        done = []
        for work in batch["work"]:
            segments: list[Segment] = pickle.loads(work)
            outputs = self.pipeline.enforced([s.ru for s in segments])
            pairs = self.pipeline.decoded(segments, range(len(segments)), outputs)
            done.append(pickle.dumps([pairs[i] for i in range(len(segments))]))
        return {"key": batch["key"], "done": np.array(done, dtype=object)}


class DocumentWriter:
    """A Ray actor that stores documents in a PostgreSQL archive, opened once, in the order the
    driver sends them (an actor runs one caller's calls in order): the driver's `plan` again,
    now that the documents before are stored, then `finish`, one transaction per document."""

    def __init__(self, target: str, settings: DecodeSettings, glossary: TermPolicy | None,
                 checks: Sequence[Check], system: System, use_memory: bool) -> None:
        from corpus.store import open_archive

        # no engine: `plan` and `finish` only need the system the translations are recorded
        # under, which the driver says
        self.pipeline = Pipeline(None, settings, archive=open_archive(target, readonly=False),  # type: ignore[arg-type]
                                 glossary=glossary, checks=checks, use_memory=use_memory,
                                 recorded_system=system)

    def store(self, plan: DocumentPlan, done: list[SentencePair]) -> DocumentResult:
        final = self.pipeline.plan(plan.document, plan.segments)
        return self.pipeline.finish(final, dict(zip(plan.todo, done, strict=True)))

    def close(self) -> None:
        if self.pipeline.archive is not None:
            self.pipeline.archive.close()


@contextmanager
def connected(options: RayOptions) -> Iterator[None]:
    """Ray initialised for the run: a new local instance (`local`) or the cluster at the
    address; shut down afterwards. A driver already connected (a test, a notebook) is used as
    it is and left connected."""
    try:
        import ray
    except ImportError:
        raise ClusterError("--ray needs Ray: pip install 'ruen[ray]'.") from None

    if ray.is_initialized():
        yield
        return
    # Ray's own warnings (token auth, each dataset's execution summary) are not for the reader
    # of `ruen translate`. One C++ line per actor pool is left: Ray Data always puts an
    # actor's constructor in the object store, and its core worker says so at ERROR level.
    logging.getLogger("ray").setLevel(logging.ERROR)
    more: dict[str, Any] = {}
    if options.address == LOCAL:
        more = {"include_dashboard": False, "_temp_dir": options.temp_dir}
    try:
        ray.init(address=options.address, logging_level=logging.ERROR, log_to_driver=False,
                 configure_logging=True, **more)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ClusterError(f"--ray {options.address}: cannot start or reach Ray "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})."
                           ) from None
    try:
        yield
    finally:
        ray.shutdown()


def actor_resources(spec: EngineSpec, options: RayOptions) -> tuple[int, dict[str, float], int]:
    """(actors, each actor's Ray resources, its engine's CPU threads) for the cluster Ray is
    connected to: a GPU actor holds one GPU; a CPU actor holds `--threads` CPUs, by default an
    equal share of the cluster's (at most a machine's). A pool the cluster cannot hold is
    refused: Ray would wait for it for ever."""
    import ray

    resources = ray.cluster_resources()
    if spec.device.startswith("cuda"):
        gpus = int(resources.get("GPU", 0))
        if gpus == 0:
            raise ClusterError("--device cuda: the Ray cluster has no GPU.")
        actors = options.actors or gpus
        if actors > gpus:
            raise ClusterError(f"--actors {actors} with --device cuda: the Ray cluster has "
                               f"{gpus} GPU(s), one per actor.")
        return actors, {"num_gpus": 1, "num_cpus": 1}, spec.threads or 1
    cpus = int(resources.get("CPU", 1))
    # An actor lives on one machine: more threads than the largest one has would never start.
    largest = max((int(node["Resources"].get("CPU", 0)) for node in ray.nodes()
                   if node.get("Alive")), default=cpus)
    actors = options.actors or 1
    threads = spec.threads or max(1, min(largest, cpus // actors))
    if threads > largest:
        raise ClusterError(f"--threads {threads}: an actor runs on one machine, and the "
                           f"largest in the Ray cluster has {largest} CPU(s).")
    if actors * threads > cpus:
        raise ClusterError(f"--actors {actors} of {threads} thread(s) each need "
                           f"{actors * threads} CPUs; the Ray cluster has {cpus}.")
    return actors, {"num_cpus": threads}, threads


def run_on_ray(pipeline: Pipeline, spec: EngineSpec, sources: Sequence[str],
               on_result: Callable[[int, DocumentResult], None],
               on_total: Callable[[int], None] = lambda n: None,
               report: JobReport | None = None, part_chars: int | None = None,
               options: SourceOptions | None = None,
               ray_options: RayOptions = RayOptions()) -> JobReport:
    """`translate.job.run_job` with decoding on Ray actors (see the module docstring).
    `pipeline` holds the archive, glossary and checks and is used on the driver only (its
    engine for counting tokens and the provenance record; it never decodes); `spec` says how
    each actor loads its own engine."""
    report = report or JobReport()
    with connected(ray_options):
        # Files are counted, then read again a window at a time: the driver holds a window's
        # text (a manifest's rows of text are held: they are no files to read again).
        inputs = read_inputs(read_manifests(sources, report, pipeline.archive, options),
                             report, on_total, pipeline.archive, part_chars, options,
                             hold=False)
        stream = documents(inputs, report, part_chars, options)
        actors, resources, threads = actor_resources(spec, ray_options)
        actor_spec = EngineSpec(spec.ref, spec.backend, spec.device, spec.quantize, threads)
        if spec.device != "cpu":  # provenance says what the actors decode with
            pipeline.recorded_system = _actor_system(actor_spec, pipeline, resources)
        with _writer(pipeline) as store:
            _run(stream, pipeline, actor_spec, actors, resources, ray_options, report,
                 on_result, store)
    return report


def _run(stream: Iterator[Any], pipeline: Pipeline, actor_spec: EngineSpec, actors: int,
         resources: dict[str, float], ray_options: RayOptions, report: JobReport,
         on_result: Callable[[int, DocumentResult], None],
         store: Callable[[DocumentPlan, list[SentencePair]], DocumentResult]) -> None:
    while window := list(islice(stream, ray_options.window)):
        plans: list[tuple[int, DocumentPlan]] = []
        pending: set[str] = set()
        for number, document, segments in window:
            plan = pipeline.plan(document, segments, pending)
            pending |= {normalize_source(ru) for ru in plan.sources}
            plans.append((number, plan))
        translated = _translate(plans, pipeline, actor_spec, actors, resources,
                                ray_options.documents_per_call)
        with closing(translated):  # stopped while Ray is up, also after Ctrl-C
            _store(plans, translated, pipeline, report, on_result, store)


MANIFEST_SUFFIXES = (".parquet", ".jsonl")
METADATA_COLUMNS = ("title", "published", "site", "author", "language", "url")


def read_manifests(sources: Sequence[str], report: JobReport, archive: Any,
                   options: SourceOptions | None = None) -> list[str | Document]:
    """The sources with each manifest (a `.parquet` or `.jsonl` file) replaced by its documents,
    read with Ray Data: one row per document, its `text`, or a `path`/`url` read as that
    argument would be, with `METADATA_COLUMNS` as its metadata. A bad row is recorded in
    `report.failed`, naming the manifest and the row (from 1); the other rows go on."""
    out: list[str | Document] = []
    for source in sources:
        if not source.lower().endswith(MANIFEST_SUFFIXES) or not Path(source).is_file():
            out.append(source)  # a missing manifest is reported as any missing input
            continue
        try:
            rows = _manifest_rows(source)
        except InputError as exc:
            report.failed.append(str(exc))
            continue
        for number, row in enumerate(rows, 1):
            try:
                out.extend(_row_documents(source, number, row, archive, options))
            except InputError as exc:
                report.failed.append(f"{source}: row {number}: {exc}")
    return out


def _manifest_rows(source: str) -> list[dict[str, Any]]:
    import ray.data

    # after Ray Data's import, which sets up its loggers: its notes are not for our reader
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows in the manifest's order
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        dataset = (ray.data.read_parquet(source) if source.lower().endswith(".parquet")
                   else ray.data.read_json(source, lines=True))
        return list(dataset.iter_rows())
    except Exception as exc:  # Ray wraps the reader's errors in its own
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{source}: not a readable manifest ({message}).") from None


def _row_documents(manifest: str, number: int, row: dict[str, Any], archive: Any,
                   options: SourceOptions | None) -> list[str | Document]:
    """One manifest row as sources for `read_inputs`."""
    from corpus.ingest import document_of, read_document
    from corpus.sources import read_source

    metadata = {column: _text(row[column]) for column in METADATA_COLUMNS
                if row.get(column) is not None and _text(row[column])}
    text, where = row.get("text"), _text(row.get("path")) or _text(row.get("url"))
    if text is not None:
        if not str(text).strip():
            raise InputError("an empty text, nothing to translate.")
        # read as a file of that text is: its encoding checked, cleaned; named by its path
        document = read_document(where or f"{manifest}#{number}", str(text).encode("utf-8"))
        return [document_of(document.path, document.text, {**document.metadata, **metadata})]
    if not where:
        raise InputError("neither a text nor a path or url.")
    if set(metadata) <= {"url"}:
        return [where]  # read exactly as the argument would be
    known = archive.document_with_url if archive is not None else (lambda url: None)
    found: list[str | Document] = []
    for item in read_source(where, options or SourceOptions(), known):
        if isinstance(item, Document):
            found.append(document_of(item.path, item.text, {**item.metadata, **metadata}))
        else:  # a long file, a URL already stored, a feed's bad item: as the argument
            return [where]
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value).strip()


@contextmanager
def _writer(pipeline: Pipeline
            ) -> Iterator[Callable[[DocumentPlan, list[SentencePair]], DocumentResult]]:
    """How a document is stored: by the driver (SQLite, or no archive), or by a writer actor
    with a connection of its own (PostgreSQL)."""
    archive = pipeline.archive
    if archive is None or archive.backend != "postgresql":
        def here(plan: DocumentPlan, done: list[SentencePair]) -> DocumentResult:
            # Asked again now that the documents before it are stored: what `pending`
            # left out is in memory, as a local run would have found it.
            final = pipeline.plan(plan.document, plan.segments)
            return pipeline.finish(final, dict(zip(plan.todo, done, strict=True)))
        yield here
        return
    import ray

    writer = ray.remote(num_cpus=0)(DocumentWriter).remote(
        str(archive.target), pipeline.settings, pipeline.glossary, pipeline.checks,
        pipeline.system, pipeline.use_memory)

    def there(plan: DocumentPlan, done: list[SentencePair]) -> DocumentResult:
        try:
            return ray.get(writer.store.remote(plan, done))
        except ray.exceptions.RayTaskError as exc:  # the archive's error, as a local run's
            raise exc.as_instanceof_cause() from None
    try:
        yield there
    finally:
        with suppress(Exception):  # its connection closes with it
            ray.get(writer.close.remote(), timeout=30)
        ray.kill(writer)


def _store(plans: Sequence[tuple[int, DocumentPlan]],
           translated: Iterator[tuple[int, list[SentencePair]]], pipeline: Pipeline,
           report: JobReport, on_result: Callable[[int, DocumentResult], None],
           store: Callable[[DocumentPlan, list[SentencePair]], DocumentResult]) -> None:
    """Store a window's documents in input order, each as soon as its translation is back."""
    for key, (number, plan) in enumerate(plans):
        report.current = _label(plan)
        if pipeline.should_stop():  # Ctrl-C: the documents stored so far stay
            raise Interrupted
        done: list[SentencePair] = []
        if plan.todo:
            done_key, done = next(translated)
            if done_key != key:
                raise RuntimeError(f"Ray returned document {done_key} for {key}")
        result = store(plan, done)
        if pipeline.on_progress:
            pipeline.on_progress(len(result.pairs))
        report.current = ""
        finished(number, result, report, on_result)


def _actor_system(spec: EngineSpec, pipeline: Pipeline, resources: dict[str, float]
                  ) -> System:
    """The system an actor's engine records (its device, precision), asked of the cluster:
    the driver may have no GPU. Loading it there also converts the model once for all actors
    (`RUEN_CACHE` on shared storage)."""
    import ray

    settings, glossary = pipeline.settings, pipeline.glossary  # not the archive: not sent

    def system() -> System:
        return Pipeline(spec.load(), settings, glossary=glossary).system

    return ray.get(ray.remote(**resources)(system).remote())


def _translate(plans: Sequence[tuple[int, DocumentPlan]], pipeline: Pipeline,
               spec: EngineSpec, actors: int, resources: dict[str, float],
               per_call: int) -> Iterator[tuple[int, list[SentencePair]]]:
    """The model's output for each plan with sentences left, in order, as the actors finish."""
    import ray
    from ray.data import ActorPoolStrategy, DataContext

    work = [{"key": key, "work": pickle.dumps([plan.segments[i] for i in plan.todo])}
            for key, (_, plan) in enumerate(plans) if plan.todo]
    if not work:
        return
    context = DataContext.get_current()
    context.execution_options.preserve_order = True  # stored in input order, as locally
    context.enable_progress_bars = False  # ours is on stderr already
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    dataset = ray.data.from_items(work, override_num_blocks=max(1, len(work) // per_call)
                                  ).map_batches(
        DocumentTranslator, batch_size=per_call, batch_format="numpy",
        fn_constructor_kwargs={"spec": spec, "settings": pipeline.settings,
                               "glossary": pipeline.glossary, "checks": pipeline.checks,
                               "system": pipeline.system},
        compute=ActorPoolStrategy(size=actors), **resources)
    try:
        for row in dataset.iter_rows():
            yield int(row["key"]), pickle.loads(row["done"])
    except ray.exceptions.RayError as exc:
        raise ClusterError(f"--ray: translation on the cluster failed: "
                           f"{str(exc).strip().splitlines()[-1]}") from None


def _label(plan: DocumentPlan) -> str:
    metadata = plan.document.metadata
    if "part" in metadata:
        return f"{plan.document.path} (part {metadata['part']}/{metadata['parts']})"
    return plan.document.path


def ray_temp_dir() -> str | None:
    """RUEN_RAY_TMPDIR: where a `local` instance keeps its session files (tests, and machines
    where /tmp/ray is another user's)."""
    return os.environ.get("RUEN_RAY_TMPDIR") or None
