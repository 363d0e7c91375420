"""`ruen serve` benchmark: page latency over HTTP on loopback, with concurrent clients.

    python -m bench.serve --db /tmp/big.db --json     # the 1,000,000-pair archive of bench.search
    python -m bench.serve --pairs 20000               # a quick trial on a small archive

The archive is bench.search's (generated Russian/English pairs in documents of 50 sentences):
built with its generator when `--db` does not exist yet (or into a temporary folder without
`--db`), reused when it does, so `python -m bench.search --db /tmp/big.db` and this share one.
The real `ruen serve` is started as a subprocess (`--port 0`, the URL read from its stderr); then,
for each number of clients (`--clients 1,8`), that many threads, each with its own keep-alive
HTTP connection, fetch pages as fast as the server answers them:

- search: `/search?q=...`, the queries of bench.search (single words with `exact=1`, two-word
  phrases, lemmas, the commonest words; as many of each), 20 hits with highlights a page;
- document: `/documents/ID` of random documents (50 sentences side by side, with flags, terms
  and the editor's data).

Latency is from sending the request to having read the whole page; a page that is not 200 or
lacks its table (`id="hits"`, `id="sentences"`) counts as an error. Clients and server share
the machine's cores, as they would on a reviewer's laptop; requests/s is pages served per
second of wall-clock time at that number of clients.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.search import build, query_sets

TARGET_P95_MS = {"search": 150.0, "document": 100.0}
TARGET_CLIENTS = 8  # the targets hold with this many clients at once
PAGE_MARK = {"search": 'id="hits"', "document": 'id="sentences"'}
SERVE_START_SECONDS = 120  # a cold 1.4 GB archive: the first open reads its schema from disk
WARM_UP = 20  # requests of each kind before timing (page cache, lemmatiser, templates)


@dataclass(frozen=True)
class Timing:
    latencies_ms: list[float]
    errors: int
    seconds: float

    def report(self) -> dict:
        ordered = sorted(self.latencies_ms)
        return {"requests": len(ordered), "errors": self.errors,
                "p50_ms": round(statistics.median(ordered), 1),
                "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
                "max_ms": round(ordered[-1], 1),
                "requests_per_second": round(len(ordered) / self.seconds, 1)}


# ---------------------------------------------------------------- the server


@contextmanager
def serving(db: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real `ruen serve` on `db`, on a free loopback port; stopped with SIGTERM after."""
    ruen = shutil.which("ruen") or "ruen"
    process = subprocess.Popen(
        [ruen, "serve", "--db", str(db), "--port", "0", "--editor", "bench",
         "--workers", str(workers)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        encoding="utf-8", env={**os.environ, "HF_HUB_OFFLINE": "1"})
    found: list[str] = []
    log: list[str] = []
    listening = threading.Event()

    def drain() -> None:  # read stderr to the end, or the server blocks once the pipe is full
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            match = re.search(r"Serving .* at (http://[^/\s]+/)", line)
            if match and not found:
                found.append(match.group(1))
                listening.set()
        listening.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not listening.wait(SERVE_START_SECONDS) or not found:
            raise SystemExit("error: ruen serve did not start:\n" + "".join(log[-20:]))
        yield found[0], process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(match.group(1)) / 1024) if match else None


# ---------------------------------------------------------------- the pages


def search_paths(db: Path, per_kind: int, seed: int) -> list[str]:
    paths = []
    for queries, options in query_sets(db, per_kind, seed).values():
        extra = {"exact": "1"} if options.get("exact") else {}
        paths += [f"/search?{urlencode({'q': q, **extra})}" for q in queries]
    random.Random(seed).shuffle(paths)
    return paths


def document_paths(db: Path, count: int, seed: int) -> list[str]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = [row[0] for row in connection.execute("SELECT id FROM documents")]
    finally:
        connection.close()
    rng = random.Random(seed)
    return [f"/documents/{rng.choice(ids)}" for _ in range(count)]


def fetch_all(base: str, paths: list[str], clients: int, mark: str) -> Timing:
    """`clients` threads, each on its own keep-alive connection, take the next path until
    none is left."""
    pending = iter(paths)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    path = next(pending, None)
                if path is None:
                    return
                began = time.perf_counter()
                response = http.get(path)
                text = response.text
                spent = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(spent)
                    if response.status_code != 200 or mark not in text:
                        errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Timing(latencies, errors[0], time.perf_counter() - began)


# ---------------------------------------------------------------- the run


def archive_pairs(db: Path) -> int:
    if not db.exists():
        return 0
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM segments").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        connection.close()


def run(pairs: int, db: Path | None, requests: int, clients: list[int], seed: int,
        workers: int = 1) -> dict:
    workdir = None
    if db is None:
        workdir = tempfile.TemporaryDirectory(prefix="ruen-bench-serve-")
        db = Path(workdir.name) / "bench.db"
    try:
        report: dict = {"db": str(db), "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
                        "load_average_before": [round(x, 2) for x in os.getloadavg()],
                        "workers": workers}
        existing = archive_pairs(db)
        if existing:
            report.update(pairs=existing, reused_archive=True)
        else:
            seconds = build(db, pairs, seed)
            report.update(pairs=pairs, build_seconds=round(seconds, 1))
        report["db_mb"] = round(db.stat().st_size / 2**20)
        pages = {"search": search_paths(db, max(1, requests // 4), seed),
                 "document": document_paths(db, requests, seed)}
        results: dict = {name: {} for name in pages}
        with serving(db, workers) as (base, process):
            for name, paths in pages.items():  # warm up: caches, lemmatiser, templates
                fetch_all(base, paths[:WARM_UP], 1, PAGE_MARK[name])
            for count in clients:
                for name, paths in pages.items():
                    timing = fetch_all(base, paths, count, PAGE_MARK[name])
                    results[name][str(count)] = timing.report()
            report["server_peak_rss_mb"] = peak_rss_mb(process.pid)
        report["pages"] = results
        report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if str(TARGET_CLIENTS) in results["search"]:
            report["targets"] = {
                name: {"clients": TARGET_CLIENTS, "p95_ms_max": target,
                       "p95_ms": results[name][str(TARGET_CLIENTS)]["p95_ms"],
                       "met": results[name][str(TARGET_CLIENTS)]["p95_ms"] <= target}
                for name, target in TARGET_P95_MS.items()}
        return report
    finally:
        if workdir is not None:
            workdir.cleanup()


def _clients(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers ≥ 1, e.g. 1,8")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1_000_000,
                        help="sentence pairs to build when --db does not exist")
    parser.add_argument("--db", type=Path, help="the archive (built there if missing, reused)")
    parser.add_argument("--requests", type=int, default=400,
                        help="pages of each kind per number of clients")
    parser.add_argument("--clients", type=_clients, default=[1, 8],
                        help="numbers of concurrent clients, e.g. 1,8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="ruen serve --workers: server processes (peak RSS is the first's)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.requests < 1:
        parser.error("--pairs and --requests must be at least 1")
    report = run(args.pairs, args.db, args.requests, args.clients, args.seed, args.workers)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['pairs']:,} pairs, {report['db_mb']} MB; server peak RSS "
          f"{report['server_peak_rss_mb']} MB", file=sys.stderr)
    for name, by_clients in report["pages"].items():
        for count, figures in by_clients.items():
            print(f"{name:>8}, {count} client(s): p50 {figures['p50_ms']:7.1f} ms  "
                  f"p95 {figures['p95_ms']:7.1f} ms  max {figures['max_ms']:7.1f} ms  "
                  f"{figures['requests_per_second']:6.1f} requests/s  "
                  f"({figures['errors']} errors)")
    for name, target in report.get("targets", {}).items():
        print(f"target {name} p95 ≤ {target['p95_ms_max']:.0f} ms at {target['clients']} "
              f"clients: {target['p95_ms']} ms, {'met' if target['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
