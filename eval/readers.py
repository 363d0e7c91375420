"""Reading hypothesis, reference and source files: plain lines, TSV or JSON lines.

- plain text (any other extension): one sentence per line; an empty line is an empty sentence,
  as sacrebleu counts it.
- `.tsv`: `ru<TAB>en` rows as `ruen export` writes them (escapes undone); a one-column TSV is
  read as plain lines.
- `.jsonl`: one object per line with `ru` and `en` (as `ruen translate --format jsonl` writes),
  or a `text` field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from corpus.errors import FormatError
from corpus.formats import tsv_unescape
from eval.errors import EvalError

Side = Literal["ru", "en"]
JSON_FIELDS = ("text", "hyp", "ref")  # tried after the side's own field


def read_text(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise EvalError(f"{path}: no such file.") from None
    except OSError as exc:
        raise EvalError(f"{path}: cannot read ({exc.strerror}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 (byte {exc.start}); convert it first.") from None


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":  # the final newline ends a line; it does not start one
        lines.pop()
    return lines


def read_sentences(path: str | Path, side: Side = "en") -> list[str]:
    """The sentences of one side of a file, in order (see the module doc for formats)."""
    path = Path(path)
    lines = _lines(read_text(path))
    suffix = path.suffix.lower()
    if suffix == ".tsv":
        return [_tsv_cell(path, number, line, side) for number, line in enumerate(lines, 1)]
    if suffix in (".jsonl", ".ndjson"):
        return [_json_field(path, number, line, side) for number, line in enumerate(lines, 1)
                if line.strip()]
    return lines


def _tsv_cell(path: Path, number: int, line: str, side: Side) -> str:
    cells = line.split("\t")
    if len(cells) == 1:
        return tsv_unescape(cells[0])
    if len(cells) != 2:
        raise FormatError(f"{path}:{number}: expected `ru<TAB>en`, found {len(cells)} columns.")
    return tsv_unescape(cells[0 if side == "ru" else 1])


def _json_field(path: Path, number: int, line: str, side: Side) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}:{number}: not JSON ({exc.msg}).") from None
    if not isinstance(value, dict):
        raise FormatError(f"{path}:{number}: expected a JSON object per line.")
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
