"""Every command explains itself: `--help` works and shows at least one example."""

from __future__ import annotations

import pytest
import typer

from translate.cli import app


def _commands(group: typer.core.TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if hasattr(command, "commands"):  # a sub-app such as `ruen model`
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_commands_a_user_needs_are_there() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"translate", "show", "export", "list", "search", "edit", "import", "eval score",
            "eval runs", "eval show", "qa", "model download", "model info", "model convert",
            "glossary check", "tm lookup"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_an_example(command: tuple[str, ...], runner) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
