"""Big-input benchmark: peak memory and time of `ruen translate` on one very large file.

    python -m bench.big_input                      # 5 MB and 50 MB files, not stored
    python -m bench.big_input --mb 5 --archive     # also stored in an archive (slower)
    python -m bench.big_input --part-chars 0       # the whole file as one part, to compare

The "translation" is instant (the Russian upper-cased), so what is measured is ruen's own
work: reading, decoding, segmenting, batching and (with --archive) storing. Peak memory is the
process's maximum resident set size, read from the operating system after the job, so each
size runs in a process of its own. A file longer than a part is read in chunks (twice: to
check and count it, then to translate it part by part), so the peak should not grow with the
file; with --part-chars 0 the file is read whole, as every file was before.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from corpus.store import Archive
from corpus.types import Hypothesis
from translate.engine.base import DecodeSettings, Engine
from translate.job import PART_CHARS, run_job
from translate.model import ModelRef
from translate.pipeline import Pipeline

WORDS = ["город", "хама", "силы", "режима", "отступают", "под", "давлением", "повстанцев", "мы",
         "продолжаем", "двигаться", "на", "юг", "к", "дамаску"]


class Echo(Engine):
    backend = "echo"

    @property
    def max_input_tokens(self) -> int:
        return 512

    @property
    def default_beam(self) -> int:
        return 1

    def count_tokens(self, sentences: Sequence[str]) -> list[int]:
        return [len(s.split()) + 1 for s in sentences]

    def translate_batch(self, sentences: Sequence[str], settings: DecodeSettings
                        ) -> list[Hypothesis]:
        return [Hypothesis(s.upper()) for s in sentences]


def write_text(path: Path, megabytes: float, seed: int = 0) -> None:
    """Russian-looking prose: 12-word sentences, 5 per paragraph, blank lines between."""
    rng = random.Random(seed)
    size = 0
    with path.open("w", encoding="utf-8") as out:
        while size < megabytes * 1_000_000:
            paragraph = " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize()
                                 + "." for _ in range(5)) + "\n\n"
            out.write(paragraph)
            size += len(paragraph.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[5.0, 50.0],
                        help="file sizes in MB, each run in a process of its own")
    parser.add_argument("--archive", action="store_true", help="store in a temporary archive")
    parser.add_argument("--part-chars", type=int, default=PART_CHARS,
                        help="characters per part; 0: the whole file as one part")
    args = parser.parse_args()
    if len(args.mb) > 1:
        for megabytes in args.mb:  # ru_maxrss is the peak of the whole process
            subprocess.run([sys.executable, "-m", "bench.big_input", "--mb", str(megabytes),
                            "--part-chars", str(args.part_chars),
                            *(["--archive"] if args.archive else [])], check=True)
        return
    (megabytes,) = args.mb
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "big.txt"
        write_text(source, megabytes)
        archive = Archive(Path(tmp) / "a.db") if args.archive else None
        pipeline = Pipeline(Echo(ModelRef("echo", Path(tmp), "")), DecodeSettings(),
                            archive=archive)
        started = time.perf_counter()
        report = run_job(pipeline, [str(source)], on_result=lambda n, r: None,
                         part_chars=args.part_chars or 10**15)
        seconds = time.perf_counter() - started
        if archive:
            archive.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"megabytes": megabytes, "archive": args.archive,
                      "part_chars": args.part_chars, "parts": report.documents,
                      "sentences": report.sentences, "seconds": round(seconds, 1),
                      "peak_rss_mb": round(peak_kb / 1024)}))


if __name__ == "__main__":
    main()
