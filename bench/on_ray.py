"""Ray's cost on one machine: the same folder by `ruen translate` and by `ruen translate --ray`.

    python -m bench.on_ray                       # 300 documents, 15 minutes on a busy 2-core box
    python -m bench.on_ray --repeat 2 --json ray.json     # the README's table

The folder is 300 generated news-like documents (`bench.translate.generate_document`, 3 to 9
sentences each) and the model has opus-mt-ru-en's shape with random weights, decoding exactly
`--output-tokens` tokens per sentence (see `bench.translate`). Each run is a fresh `ruen`
process, end to end: imports, model load, a new local Ray instance for the Ray runs (its start
included), every document stored in a new SQLite archive (checked afterwards: every document,
every sentence). The runs:
1. `ruen translate FOLDER --threads 2` (two side-by-side translations of one thread each);
2. `--ray local --actors 1 --threads 2`: one actor decoding exactly as run 1 does;
3. `--ray local --actors 2 --threads 1`: two actors of one thread each.
Then, in this process, what Ray costs by itself: `ray.init` of a local instance, and a Ray
Data `map_batches` through an actor pool whose actor does nothing, over the same number of
calls as run 2 makes (per document and per call, which is Ray's overhead per sentence batch); and
the archive's write rate: the driver's own work per document (`Pipeline.plan` against the
archive, `Pipeline.finish` storing the pairs the actors checked) with the translations given,
the ceiling of one writer on the driver.
On a 2-core machine shared with other jobs the runs take turns (`--repeat` rounds, best kept).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.translate import OUTPUT_TOKENS, generate_document, prepare

DOCUMENTS = 300
RUNS = {"local": [], "ray-1": ["--ray", "local", "--actors", "1"],
        "ray-2": ["--ray", "local", "--actors", "2"]}
THREADS = {"local": 2, "ray-1": 2, "ray-2": 1}  # per engine: two cores in all


def make_folder(workdir: Path, documents: int) -> Path:
    folder = workdir / f"folder-{documents}"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        rng = random.Random(5)
        for n in range(documents):
            text = generate_document(rng.randint(3, 9), seed=1000 + n)
            (folder / f"{n:04}.txt").write_text(text, encoding="utf-8")
    return folder


def _env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "RUEN_CACHE": str(workdir / "cache"), "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "RUEN_GLOSSARY": str(workdir / "none.tsv")}


def run_ruen(name: str, folder: Path, model: Path, workdir: Path, beam: int,
             output_tokens: int) -> dict[str, Any]:
    db = workdir / f"{name}.db"
    db.unlink(missing_ok=True)
    temp = tempfile.mkdtemp(prefix="ruen-ray-", dir="/tmp")
    args = ["ruen", "translate", str(folder), "--model", str(model), "--db", str(db),
            "--beam", str(beam), "--threads", str(THREADS[name]), "--bench-output-tokens",
            str(output_tokens), "--format", "jsonl", "--output", os.devnull, *RUNS[name]]
    start = time.perf_counter()
    done = subprocess.run(args, env={**_env(workdir), "RUEN_RAY_TMPDIR": temp},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(temp, ignore_errors=True)
    if done.returncode:
        raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr}")
    with closing(sqlite3.connect(db)) as con:
        documents = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        sentences = con.execute("SELECT count(*) FROM segments").fetchone()[0]
        translated = con.execute("SELECT count(DISTINCT segment_id) FROM translations"
                                 ).fetchone()[0]
    if documents != DOCUMENTS or translated != sentences:
        raise SystemExit(f"{name}: {documents} documents, {translated}/{sentences} stored")
    return {"seconds": seconds, "documents": documents, "sentences": sentences}


class _Nothing:
    """An actor that returns its batch: what is left is Ray's cost."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return batch


def ray_alone(calls: int, per_call: int) -> dict[str, float]:
    """`ray.init` of a local instance; a no-op actor pool over `calls` calls and over four
    times as many: the difference is Ray's cost per call, the rest the pool's start."""
    import ray
    from ray.data import ActorPoolStrategy, DataContext

    temp = tempfile.mkdtemp(prefix="ruen-ray-", dir="/tmp")
    start = time.perf_counter()
    ray.init(address="local", include_dashboard=False, _temp_dir=temp,
             logging_level=logging.ERROR, log_to_driver=False)
    started = time.perf_counter() - start
    try:
        context = DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False

        def pool(calls: int) -> float:
            items = [{"key": i, "work": b"x" * 2000} for i in range(calls * per_call)]
            start = time.perf_counter()
            dataset = ray.data.from_items(items, override_num_blocks=calls).map_batches(
                _Nothing, batch_size=per_call, batch_format="numpy",
                compute=ActorPoolStrategy(size=1), num_cpus=1)
            rows = sum(1 for _ in dataset.iter_rows())
            assert rows == len(items)
            return time.perf_counter() - start

        few, many = pool(calls), pool(4 * calls)
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
    per_call_s = (many - few) / (3 * calls)
    return {"init_s": started, "pool_s": few, "pool_4x_s": many, "calls": calls,
            "per_call_ms": 1000 * per_call_s, "pool_start_s": few - calls * per_call_s}


def write_rate(folder: Path, model: Path, workdir: Path) -> dict[str, float]:
    """The driver's work per document in a Ray run, the actors' pairs given: `plan` twice
    (translation memory asked before sending and before storing), `finish` (one transaction,
    the search index kept up to date). Also how fast the driver segments."""
    os.environ.update({k: v for k, v in _env(workdir).items() if k.startswith(("RUEN", "HF"))})
    from corpus.ingest import read_document
    from corpus.store import open_archive
    from eval.qa import DEFAULT_CHECKS
    from translate.engine import DecodeSettings, load_engine
    from translate.glossary import load_glossary
    from translate.model import resolve_model
    from translate.pipeline import Enforced, Pipeline
    from translate.segment import segment

    ref = resolve_model(str(model), None)
    db = workdir / "writes.db"
    db.unlink(missing_ok=True)
    archive = open_archive(db, readonly=False)
    pipeline = Pipeline(load_engine(ref), DecodeSettings(), archive=archive,
                        glossary=load_glossary(use_default=True), checks=DEFAULT_CHECKS)
    docs = [read_document(str(p), p.read_bytes()) for p in sorted(folder.iterdir())]
    start = time.perf_counter()
    segmented = [(d, segment(d.text)) for d in docs]
    segmenting = time.perf_counter() - start
    english = "The regime forces withdrew from the city after fierce fighting on Thursday."
    # What the actors send back (translated, QA-checked pairs), made before the clock starts.
    decoded = []
    for _, segments in segmented:
        positions = range(len(segments))
        decoded.append(pipeline.decoded(segments, positions,
                                        [Enforced(english, score=-0.5)] * len(segments)))
    sentences = 0
    start = time.perf_counter()
    for (document, segments), pairs in zip(segmented, decoded, strict=True):
        pipeline.plan(document, segments)  # before sending, and again before storing
        pipeline.finish(pipeline.plan(document, segments), pairs)
        sentences += len(segments)
    seconds = time.perf_counter() - start
    archive.close()
    return {"seconds": seconds, "documents": len(docs), "sentences": sentences,
            "documents_per_s": len(docs) / seconds, "sentences_per_s": sentences / seconds,
            "segmented_per_s": sentences / segmenting}


def print_table(results: dict[str, Any]) -> None:
    runs = results["runs"]
    local = runs["local"]["seconds"]
    print(f"{DOCUMENTS} documents, {runs['local']['sentences']} sentences, beam "
          f"{results['beam']}, {results['output_tokens']} tokens per sentence\n")
    print("| run | seconds | documents/s | sentences/s | against `ruen translate` |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, label in (("local", "`ruen translate`, 2 threads"),
                        ("ray-1", "`--ray local --actors 1 --threads 2`"),
                        ("ray-2", "`--ray local --actors 2 --threads 1`")):
        row = runs[name]
        print(f"| {label} | {row['seconds']:.1f} | {row['documents'] / row['seconds']:.1f} | "
              f"{row['sentences'] / row['seconds']:.1f} | {local / row['seconds']:.2f}× |")
    alone, writes = results["ray_alone"], results["writes"]
    per_doc = (runs["ray-1"]["seconds"] - local - alone["init_s"]) / DOCUMENTS
    print(f"\nRay alone: local instance started in {alone['init_s']:.1f} s; a no-op actor pool "
          f"started in {alone['pool_start_s']:.1f} s and took {alone['per_call_ms']:.1f} ms "
          f"per call of {results['per_call']} documents; run 2 - run 1 - start = "
          f"{1000 * per_doc:.1f} ms per document.")
    print(f"SQLite writer on the driver: {writes['documents_per_s']:.0f} documents/s, "
          f"{writes['sentences_per_s']:.0f} sentences/s (plan twice + finish, pairs given); "
          f"segmenting on the driver: {writes['segmented_per_s']:.0f} sentences/s.")


def main(argv: Sequence[str] | None = None) -> None:
    from translate.cluster import DOCUMENTS_PER_CALL

    parser = argparse.ArgumentParser(prog="python -m bench.on_ray",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--output-tokens", type=int, default=OUTPUT_TOKENS)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; best time kept")
    parser.add_argument("--parts", default="runs,ray,writes",
                        help="comma-separated subset of runs,ray,writes [all]")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "ruen-bench-ray"))
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    _, model = prepare(workdir, 20)
    folder = make_folder(workdir, DOCUMENTS)
    parts = args.parts.split(",")
    runs: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeat if "runs" in parts else 0):
        for name in RUNS:
            row = run_ruen(name, folder, model, workdir, args.beam, args.output_tokens)
            print(f"{name}: {row['seconds']:.1f} s", file=sys.stderr)
            if name not in runs or row["seconds"] < runs[name]["seconds"]:
                runs[name] = row
    calls = -(-DOCUMENTS // DOCUMENTS_PER_CALL)
    results = {"beam": args.beam, "output_tokens": args.output_tokens, "runs": runs,
               "per_call": DOCUMENTS_PER_CALL,
               "ray_alone": ray_alone(calls, DOCUMENTS_PER_CALL) if "ray" in parts else None,
               "writes": write_rate(folder, model, workdir) if "writes" in parts else None}
    if len(parts) == 3:
        print_table(results)
    else:
        print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
