"""What every `cli.py` shares: the Typer app that keeps the CLI contract (README, "The CLI
contract"): every problem with the user's input, a bad option value as much as a `RuenError`,
is one `error:` line on stderr and exit code 2; the stderr console; progress bars that stay
quiet when stderr is not a terminal."""

from __future__ import annotations

import functools
import json
import sys
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from typer._click import exceptions as click_errors  # typer 0.29 carries its own click
from typer.core import TyperCommand, TyperGroup

from corpus.errors import RuenError

err = Console(stderr=True)
# Results: tables and text whose strings are the user's (file names, sentences, queries) and
# so are never read as rich markup (`[red]`, `draft[v2]`).
out = Console(markup=False, highlight=False)
EXIT_DONE = 0
EXIT_PROBLEMS_FOUND = 1  # `qa --fail-on`: the check ran and found what it was asked to fail on
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def print_error(message: str) -> None:
    """`error: message` on stderr; the message is never read as rich markup, so a file named
    `draft[v2].txt` or a query `"[red]Хама` is shown as it is."""
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False,
              soft_wrap=True)


def note(message: str) -> None:
    """A summary or progress line on stderr (stdout carries only results), never markup."""
    err.print(Text(message), highlight=False, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    print_error(message)
    return typer.Exit(EXIT_USER_ERROR)


def usage_message(exc: click_errors.ClickException) -> str:
    """One line for a bad command line, naming the command and where its help is."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    return f"{ctx.command_path}: {message} (see `{ctx.command_path} --help`)"


class ContractGroup(TyperGroup):
    """The root group: click's usage errors (bad values, unknown options, missing arguments)
    become one `error:` line and exit 2 here, in the one place every command passes through,
    instead of rich's boxed panels."""

    def get_params(self, ctx: Any) -> list[Any]:
        return [plain_names(p) for p in super().get_params(ctx)]  # --version, completion

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:  # a caller that handles click's errors itself
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click_errors.NoArgsIsHelpError as exc:
            print(exc.ctx.get_help())  # `ruen` or `ruen model` alone: the help
            sys.exit(EXIT_USER_ERROR)
        except click_errors.ClickException as exc:
            print_error(usage_message(exc))
            sys.exit(EXIT_USER_ERROR)
        except typer.Abort:  # click's word for Ctrl-C (or end of input) at a prompt
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else EXIT_DONE)


class ContractCommand(TyperCommand):
    """A command whose help shows what to type, not Python types: no `<bool>` after a flag,
    `FILE`, `N`, `a|b|c` instead of `<path>`, `<int>`, `<list[str]>`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            plain_names(param)

    def get_help_option(self, ctx: Any) -> Any:
        return plain_names(super().get_help_option(ctx))


def default_command_group(default: str) -> type[ContractGroup]:
    """A group that runs its `default` command when the first word is no command of its own:
    `ruen eval hyp.txt --ref ref.txt` is `ruen eval score hyp.txt --ref ref.txt`, while
    `ruen eval runs` lists the stored runs."""

    class DefaultCommandGroup(ContractGroup):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
                args = [default, *args]
            return super().parse_args(ctx, args)

    return DefaultCommandGroup


def plain_names(param: Any) -> Any:
    """Give an option or argument a metavar saying what to type (unless it has one)."""
    if param is None or param.metavar is not None:
        return param
    word = _value_word(param)
    if param.param_type_name == "argument":
        param.metavar = param.name.upper()
        # the type column: the kind of value when the name does not say it already
        param.display_type_rich = lambda ctx: None if word in ("TEXT", param.metavar) else word
    else:
        param.metavar = word
    return param


def _value_word(param: Any) -> str:
    desc = getattr(param, "type_descriptor", None)
    if getattr(param, "is_flag", False) or desc is None:
        return ""
    annotation = desc.annotation
    if desc.is_list:
        (annotation,) = typing.get_args(annotation)
    if desc.choices is not None:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if desc.is_path or annotation is Path:
        return "FILE"
    if annotation is int:
        return "N"
    if annotation is float:
        return "X"
    return "TEXT"


def _user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RuenError as exc:
            raise fail(str(exc)) from None

    return wrapper


class App(typer.Typer):
    """A Typer app whose commands report `RuenError` as one line on stderr and exit 2."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_show_locals", False)
        kwargs.setdefault("rich_markup_mode", "markdown")
        kwargs.setdefault("cls", ContractGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        kwargs.setdefault("cls", ContractCommand)
        register = super().command(*args, **kwargs)
        return lambda fn: register(_user_errors(fn))


class RateColumn(ProgressColumn):
    """Items per second, e.g. `12.3 sent/s`."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else f"- {self.unit}/s")


def progress(unit: str = "sent") -> Progress:
    """A progress bar on stderr (done / total, rate, time left); silent when stderr is piped."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
        TimeRemainingColumn(), console=err, transient=True, disable=not sys.stderr.isatty(),
    )


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def print_jsonl(values: Iterable[Any]) -> None:
    for value in values:
        sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
