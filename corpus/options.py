"""The options every command shares, defined once so that they mean the same everywhere, and
the validators that refuse a bad value while the command line is parsed: before a model loads,
an archive is created or a file is written (README, "The CLI contract").

A new command takes its `--db`, `--doc`, `--json`, `--glossary`/`--no-glossary` and `-o` from
here, declares numbers with `min=`/`max=` and choices with `choice(...)`;
`tests/test_cli_contract.py` walks every command and holds each one to this.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

DB_HELP = ("Archive: a file, or a PostgreSQL URL postgresql://user@host/dbname [default: "
           "$RUEN_DB, else archive.db in the per-user data dir].")


def choice(*values: str, metavar: str | None = None) -> dict[str, Any]:
    """`typer.Option(..., **choice("a", "b"))`: only these values, shown as `a|b` in the help
    (or as `metavar`, when the list is too long to read there); works for repeatable options
    too."""
    allowed = ", ".join(values)

    def check(value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None and item not in values:
                raise typer.BadParameter(f"{item!r} is not one of {allowed}")
        return value

    check.choices = values  # type: ignore[attr-defined]  # for tests/test_cli_contract.py
    return {"callback": check, "metavar": metavar or "|".join(values)}


def at_least(minimum: int) -> Callable[[Any], Any]:
    """A callback for repeatable numbers (`min=` covers single ones)."""

    def check(value: Any) -> Any:
        for item in value or ():
            if item < minimum:
                raise typer.BadParameter(f"{item} is less than {minimum}")
        return value

    return check


def writable_output(value: Path | None) -> Path | None:
    """An output file whose folder exists and may be written in (checked before any work, so
    that a typo in `-o` does not cost a translation)."""
    if value is None:
        return value
    if value.is_dir():
        raise typer.BadParameter(f"{value} is a folder; give a file name")
    folder = value.parent if str(value.parent) else Path(".")
    if not folder.is_dir():
        raise typer.BadParameter(f"{value}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (value.exists() and not os.access(value, os.W_OK)):
        raise typer.BadParameter(f"{value}: not allowed to write there")
    return value


def default_editor() -> str:
    """Who post-edits when nobody says: the operating system's user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def documents(value: Sequence[int] | None) -> list[int] | None:
    """`--doc` values, positive."""
    return at_least(1)(list(value) if value else None)


# Text, not a Path: a Path would fold the `//` of a URL.
DbOption = Annotated[str | None, typer.Option(
    "--db", envvar="RUEN_DB", show_default=False, metavar="FILE|URL", help=DB_HELP)]
DocOption = Annotated[list[int] | None, typer.Option(
    "--doc", metavar="ID", callback=documents, show_default=False,
    help="Only this document (repeatable; `ruen list` shows the ids).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", metavar="FILE", callback=writable_output, show_default=False,
    help="Write here instead of stdout.")]
EditorOption = Annotated[str | None, typer.Option(
    "--editor", envvar="RUEN_EDITOR", show_default=False, metavar="NAME",
    help="Who makes the post-edits, stored with each one [default: $RUEN_EDITOR, else your "
         "user name].")]
GlossaryOption = Annotated[list[Path] | None, typer.Option(
    "--glossary", "-g", show_default=False, metavar="FILE",
    help="Glossary file (TSV, CSV or TBX) over the default one and yours; repeatable, later "
         "files win.")]
NoGlossaryOption = Annotated[bool, typer.Option(
    "--no-glossary", help="Leave out the shipped default glossary and your own "
                          "(`ruen glossary add`); only --glossary files are used.")]
