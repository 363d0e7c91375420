"""Reading hypothesis, reference and source files for `ruen eval` and `ruen qa`: plain lines,
TSV, JSON lines or TMX, through the same readers as `ruen import` (corpus.readers), so a file
means the same to every command and a malformed one gets the same message.

- plain text (any other extension): one sentence per line; an empty line is an empty sentence,
  as sacrebleu counts it.
- `.tsv`: `ru<TAB>en` rows as `ruen export` writes them, with or without a header row; a row
  of another width is an error naming its line (a file of plain lines is named `.txt`).
- `.jsonl`: one object per line with `ru` and `en` (as `ruen translate --format jsonl`
  writes), or a `text`/`hyp`/`ref` field.
- `.tmx`: the Russian and English of each unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from corpus.errors import FormatError
from corpus.readers import read_json_objects, read_lines, read_rows, read_tmx, read_tsv
from eval.errors import EvalError

Side = Literal["ru", "en"]
JSON_FIELDS = ("text", "hyp", "ref")  # tried after the side's own field
PAIR_SUFFIXES = (".tsv", ".jsonl", ".ndjson", ".tmx")


def read_sentences(path: str | Path, side: Side = "en") -> list[str]:
    """The sentences of one side of a file, in order (see the module doc for formats)."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return [getattr(row, side) for row in read_tsv(path)]
    if suffix == ".tmx":
        return [getattr(row, side) for row in read_tmx(path)]
    if suffix in (".jsonl", ".ndjson"):
        return [_json_field(path, number, value, side)
                for number, value in read_json_objects(path)]
    return read_lines(path)


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """(Russian, English) of each pair of a TSV, JSONL or TMX file, read as `ruen import`
    reads them: a row without both sides is an error naming its line."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: no such file.")
    return [(row.ru, row.en) for row in read_rows(path)]


def carries_pairs(path: Path) -> bool:
    """Whether the file holds Russian and English side by side (TSV, JSONL, TMX)."""
    return path.suffix.lower() in PAIR_SUFFIXES


def _json_field(path: Path, number: int, value: dict, side: Side) -> str:
    for name in (side, *JSON_FIELDS):
        if isinstance(value.get(name), str):
            return value[name]
    raise FormatError(f"{path}:{number}: no {side!r} or 'text' field with a string.")


def parse_system(spec: str) -> tuple[str, Path]:
    """`NAME=FILE` (or just `FILE`, named after the file) as given to `--system`."""
    name, sep, file = spec.partition("=")
    if not sep:
        return Path(spec).stem, Path(spec)
    if not name or not file:
        raise EvalError(f"--system {spec!r}: write it as NAME=FILE.")
    return name, Path(file)
