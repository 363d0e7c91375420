"""The CLI contract (README, "The CLI contract"), held for every command of the `ruen` app.

The commands are discovered from the app, so a command added later is held to the same rules:
shared options mean the same everywhere; every number, choice and output file is checked while
the command line is parsed, so a bad value is one `error:` line and exit 2 before a model loads
or an archive is created; a `--doc` that is not in the archive is refused; and every example in
every `--help` runs, against the tiny model, on files written here.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from corpus.store import Archive
from corpus.types import Document, SentencePair, System
from translate.cli import app

ROOT = typer.main.get_command(app)


def _walk(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        if command.hidden:
            continue
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _walk(command, path)


EVERYTHING = dict(_walk(ROOT))  # groups (`ruen model`) and commands
COMMANDS = {path: c for path, c in EVERYTHING.items() if not hasattr(c, "commands")}
NAMES = [" ".join(path) for path in COMMANDS]


def _options(command: Any) -> dict[str, Any]:
    return {name: p for p in command.params if p.param_type_name == "option" for name in p.opts}


def _one_error_line(result: Any, *mentions: str) -> str:
    """The contract for refused input: exit 2, nothing on stdout, one `error:` line on stderr
    naming what is wrong, no traceback, no boxed panel."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not result.stdout.strip(), result.stdout
    assert "╭" not in result.output and "Traceback" not in result.output
    for mention in mentions:
        assert mention in lines[0], lines[0]
    return lines[0]


def test_every_command_a_user_needs_is_there() -> None:
    assert {"translate", "show", "export", "list", "search", "edit", "import", "eval score",
            "eval runs", "eval show", "qa", "model download", "model info", "model convert",
            "glossary check", "glossary list", "glossary add", "glossary audit",
            "tm lookup"} <= set(NAMES)


# ---------------------------------------------------------------- one meaning per option


@pytest.mark.parametrize("path", COMMANDS, ids=NAMES)
def test_shared_options_mean_the_same_everywhere(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    options = _options(command)
    # results for scripts: --json (corpus.options.JsonOption), or a --format with jsonl
    assert "--json" in options or "--format" in options, "add corpus.options.JsonOption"
    if "--db" in options:
        db = options["--db"]
        assert db.envvar == "RUEN_DB" and "RUEN_DB" in db.help, "use corpus.options.DbOption"
    if "--doc" in options:
        assert options["--doc"].multiple, "use corpus.options.DocOption (repeatable)"
    if "--glossary" in options:
        assert options["--glossary"].multiple and "--no-glossary" in options
    if "--format" in options:  # what is written; `import --from` names what is read
        assert "Output" in options["--format"].help
    for param in command.params:
        # what to type, never a Python type: `FILE`, `N`, `a|b`; flags show nothing
        assert param.metavar is not None and "<" not in param.metavar, param.opts
        assert "[" not in param.metavar and "Path" not in param.metavar, param.opts
        if getattr(param, "is_flag", False):
            assert param.metavar == "", param.opts
        if param.param_type_name == "option":
            assert param.help, f"{param.opts} has no help"
        if param.type_descriptor.annotation in (int, float, int | None, float | None):
            assert param.min is not None or param.max is not None, \
                f"{param.opts}: declare the allowed range (min=/max=)"


# ---------------------------------------------------------------- bad values, before any work


def _placeholder(param: Any) -> str:
    return "1" if param.type_descriptor.annotation is int else "article.txt"


def _bad_values(path: tuple[str, ...], command: Any) -> Iterator[tuple[str, list[str], str]]:
    """(case id, arguments, what the error must name) for every checked value of a command."""
    required = [_placeholder(p) for p in command.params
                if p.param_type_name == "argument" and p.required]
    for param in command.params:
        if param.param_type_name == "argument":
            if param.min is not None:
                args = [_placeholder(p) if p is not param else str(param.min - 1)
                        for p in command.params if p.param_type_name == "argument" and p.required]
                # (a negative one is read as an option: refused all the same)
                mention = param.metavar if param.min > 0 else str(param.min - 1)
                yield f"{param.name}={param.min - 1}", [*path, *args], mention
            continue
        name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        if param.min is not None:
            below = param.min - 1
            yield f"{name} {below}", [*path, *required, name, str(below)], name
        elif param.max is not None:
            above = param.max + 1
            yield f"{name} {above}", [*path, *required, name, str(above)], name
        if getattr(param.callback, "choices", None):
            yield f"{name} bogus", [*path, *required, name, "bogus"], "bogus"
        if name in ("--output", "--report", "--to"):
            target = "/no/such/folder/out.txt"
            yield f"{name} {target}", [*path, *required, name, target], "/no/such/folder"


BAD = [(f"{' '.join(path)}: {case}", args, mention)
       for path, command in COMMANDS.items()
       for case, args, mention in _bad_values(path, command)]


def test_the_matrix_covers_numbers_choices_and_outputs() -> None:
    cases = {case for case, _, _ in BAD}
    assert {"translate: --beam 0", "translate: --threads 0", "translate: --batch-tokens 0",
            "translate: --format bogus", "translate: --output /no/such/folder/out.txt",
            "export: --output /no/such/folder/out.txt", "qa: --severity bogus",
            "qa: --check bogus", "eval score: --test bogus", "show: doc=0",
            "search: --lang bogus", "import: --kind bogus"} <= cases


@pytest.mark.parametrize(("args", "mention"), [(a, m) for _, a, m in BAD],
                         ids=[case for case, _, _ in BAD])
def test_a_bad_value_is_one_error_line_before_any_work(
        args: list[str], mention: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        runner) -> None:
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "archive.db"
    # a model that is not there: had the command gone as far as loading it, it would say so
    env = {"RUEN_DB": str(archive), "RUEN_MODEL": str(tmp_path / "no-model"),
           "HF_HUB_OFFLINE": "1"}
    _one_error_line(runner.invoke(app, args, env=env), mention)
    assert not archive.exists()  # refused before an archive was created
    assert not list(tmp_path.iterdir())  # and before anything else was written


def test_negative_beam_is_refused_like_any_other_bad_value(tmp_path: Path, runner) -> None:
    """The issue's first case: `--beam -3` was a 126-line traceback, exit 1."""
    source = tmp_path / "a.txt"
    source.write_text("Город Хама освобожден.\n", encoding="utf-8")
    result = runner.invoke(app, ["translate", str(source), "--beam", "-3"],
                           env={"RUEN_DB": str(tmp_path / "archive.db")})
    _one_error_line(result, "--beam", "greater than or equal to 1")


def test_unknown_option_and_missing_argument_are_one_line_too(runner) -> None:
    _one_error_line(runner.invoke(app, ["translate", "a.txt", "--bean", "2"]), "--bean")
    _one_error_line(runner.invoke(app, ["show"]), "DOC")
    _one_error_line(runner.invoke(app, ["eval", "show", "x"]), "RUN", "integer")


# ---------------------------------------------------------------- a --doc that is not there

# The least each command with --doc needs besides it; a new command with --doc goes here.
DOC_COMMANDS = {("export",): [], ("search",): ["Хама"], ("qa",): [],
                ("eval", "score"): ["--ref", "ref.txt"]}


def test_every_command_with_doc_is_checked() -> None:
    with_doc = {path for path, command in COMMANDS.items() if "--doc" in _options(command)}
    assert with_doc == set(DOC_COMMANDS)


@pytest.mark.parametrize("path", DOC_COMMANDS, ids=" ".join)
def test_a_document_that_is_not_there_is_refused(path: tuple[str, ...], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 runner) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ref.txt").write_text("Hama is free.\n", encoding="utf-8")
    archive = tmp_path / "archive.db"
    with Archive(archive) as stored:
        stored.save_document(Document("a.txt", "a", "Хама свободна."),
                             [SentencePair(None, 0, 0, "Хама свободна.", "Hama is free.",
                                           start=0, end=14)], System("m"))
    before = archive.read_bytes()
    result = runner.invoke(app, [*path, *DOC_COMMANDS[path], "--doc", "1", "--doc", "9",
                                 "--db", str(archive)])
    _one_error_line(result, "no document 9")
    assert archive.read_bytes() == before


# ---------------------------------------------------------------- every example runs

ARTICLE = """Наступление на Хаму

Силы режима отступают под давлением повстанцев. Город Хама полностью освобожден после \
ожесточенных боев. Мы продолжаем двигаться на юг, к Дамаску.

Представитель Командования военных операций подтвердил освобождение города. В четверг \
начались новые столкновения в провинции Хомс. Революционные силы находятся в десяти \
километрах от города.
"""
SRC = ["Коалиция взяла под контроль три деревни.", "Бои шли всю ночь.",
       "Утром наступила тишина."]
REF = ["The coalition took control of three villages.", "Fighting went on all night.",
       "In the morning it was quiet."]
HYP = ["The coalition took three villages.", "The fighting went on all night.",
       "Silence came in the morning."]
OLD = ["Coalition took villages.", "Fights were all night.", "Morning came silence."]
TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="ru" datatype="plaintext" segtype="sentence" adminlang="en"
 creationtool="t" creationtoolversion="1" o-tmf="t"/><body>
<tu><tuv xml:lang="ru"><seg>Хама освобождена.</seg></tuv>
<tuv xml:lang="en"><seg>Hama is free.</seg></tuv></tu>
</body></tmx>
"""
# A saved news page: the article between a menu, a cookie notice, related links and a footer.
PAGE = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Наступление на Хаму | Вестник</title>
<meta property="og:site_name" content="Вестник Востока">
<meta name="author" content="Иван Петров">
<meta property="article:published_time" content="2026-11-28T09:00:00+03:00"></head>
<body><nav><ul><li><a href="/">Главная</a></li><li><a href="/politics">Политика</a></li>
<li><a href="/sport">Спорт</a></li></ul></nav>
<div class="cookie">Мы используем файлы cookie. <button>Закрыть</button></div>
<article><h1>Наступление на Хаму</h1>
<p>Силы режима отступают под давлением повстанцев. Город Хама полностью освобожден после
ожесточенных боев, сообщил представитель Командования военных операций.</p>
<p>В четверг начались новые столкновения в провинции Хомс. Революционные силы находятся в
десяти километрах от города, а жители готовятся к возвращению в свои дома.</p></article>
<aside><h3>Читайте также</h3><a href="/1">Экономика региона</a> <a href="/2">В рубрику →</a>
</aside><footer>© 2026 Вестник Востока. Все права защищены.</footer></body></html>
"""
TBX = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<text><body>
<conceptEntry id="c1">
<langSec xml:lang="ru"><termSec><term>Хама</term></termSec></langSec>
<langSec xml:lang="en"><termSec><term>Hama</term>
<termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec>
<termSec><term>Hamah</term>
<termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></termSec></langSec>
</conceptEntry></body></text></tbx>
"""
NEEDS_INTERNET = {"ruen model download Helsinki-NLP/opus-mt-ru-en"}


def _lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


@pytest.fixture(scope="module")
def workspace(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the help examples name, and an archive with document 1 translated, a
    reference for each of its sentences and one stored eval run."""
    root = tmp_path_factory.mktemp("examples")
    (root / "opus-mt-ru-en").symlink_to(tiny_model, target_is_directory=True)
    (root / "article.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "articles").mkdir()
    (root / "articles" / "hama.txt").write_text(ARTICLE.split("\n\n", 1)[1], encoding="utf-8")
    (root / "articles" / "homs.md").write_text("# Хомс\n\nВ Хомсе тихо.\n", encoding="utf-8")
    (root / "mine.tsv").write_text("ru\ten\tvariants\nХама\tHama\tKhama\n", encoding="utf-8")
    for name, lines in {"src.ru.txt": SRC, "ref.txt": REF, "hyp.txt": HYP, "new.txt": HYP,
                        "old.txt": OLD, "hyp.en.txt": HYP}.items():
        _lines(root / name, lines)
    _lines(root / "pairs.tsv", [f"{ru}\t{en}" for ru, en in zip(SRC, HYP, strict=True)])
    (root / "memory.tmx").write_text(TMX, encoding="utf-8")
    (root / "page.html").write_text(PAGE, encoding="utf-8")
    (root / "iate.tbx").write_text(TBX, encoding="utf-8")
    _lines(root / "corrected.jsonl", [json.dumps({"ru": ru, "en": en}, ensure_ascii=False)
                                      for ru, en in zip(SRC, REF, strict=True)])
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        runner = CliRunner()
        env = {"RUEN_DB": str(root / "archive.db"), "RUEN_MODEL": str(tiny_model)}
        done = runner.invoke(app, ["translate", "article.txt"], env=env)
        assert done.exit_code == 0, done.output
        with Archive(root / "archive.db") as archive:
            pairs = list(archive.pairs(1))
            archive.import_document("ref", "ref.tsv", [
                SentencePair(None, p.index, p.paragraph, p.ru, f"{p.en} (checked)")
                for p in pairs], "reference")
        stored = runner.invoke(app, ["eval", "hyp.txt", "--ref", "ref.txt"], env=env)
        assert stored.exit_code == 0, stored.output
        exported = runner.invoke(app, ["export", "--format", "xliff", "--doc", "1", "-o",
                                       "article1.xlf"], env=env)
        assert exported.exit_code == 0, exported.output
    return root


def _examples(command: Any) -> list[str]:
    """The lines of the help's ``` block(s)."""
    found, inside = [], False
    for line in (command.help or "").splitlines():
        line = line.strip()
        if line.startswith("```"):
            inside = not inside
        elif inside and line:
            found.append(line)
    return found


EXAMPLES = [(path, example) for path, command in EVERYTHING.items()
            for example in _examples(command)]


@pytest.mark.parametrize("path", EVERYTHING, ids=[" ".join(p) for p in EVERYTHING])
def test_help_has_examples_one_per_line(path: tuple[str, ...], runner) -> None:
    examples = _examples(EVERYTHING[path])
    if not hasattr(EVERYTHING[path], "commands"):
        assert examples, "give the help an Examples: block in ``` fences"
    shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    lines = [line.strip() for line in shown.stdout.splitlines()]
    for example in examples:
        command_part = example.split("  #")[0].strip()
        assert any(line.startswith(command_part) for line in lines), \
            f"{command_part!r} is not one line of the help at 80 columns:\n{shown.stdout}"


# Commands that run until they are stopped (`ruen serve`): each example runs as a real process,
# on a free port (its --port, if any, becomes 0), and must say where it listens, answer there,
# and stop with exit 0 on SIGTERM.
RUNS_UNTIL_STOPPED = {("serve",)}
START_SECONDS = 90


def _serves_until_stopped(words: list[str], env: dict[str, str]) -> None:
    if "--port" in words:
        words[words.index("--port") + 1] = "0"
    else:
        words += ["--port", "0"]
    process = subprocess.Popen([shutil.which("ruen") or "ruen", *words[1:]],
                               env={**os.environ, **env}, text=True, encoding="utf-8",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr],  # type: ignore[union-attr]
                     daemon=True).start()
    try:
        said = ""
        while "Serving " not in said:
            said = lines.get(timeout=START_SECONDS)
            assert "error" not in said and "Traceback" not in said, said
        url = re.search(r" at (http://\S+/)", said).group(1)  # type: ignore[union-attr]
        url = url.replace("0.0.0.0", "127.0.0.1")  # all addresses: this machine's too
        request = urllib.request.Request(url + "documents")
        if "--token" in words:
            request.add_header("Authorization", f"Bearer {words[words.index('--token') + 1]}")
        elif "--reviewer" in words:  # NAME:TOKEN
            token = words[words.index("--reviewer") + 1].partition(":")[2]
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and b'id="documents"' in response.read()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0


@pytest.mark.parametrize(("path", "example"), EXAMPLES,
                         ids=[example for _, example in EXAMPLES])
def test_every_help_example_runs(path: tuple[str, ...], example: str, workspace: Path,
                                 tiny_model: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch, runner) -> None:
    here = tmp_path / "here"
    shutil.copytree(workspace, here, symlinks=True)
    monkeypatch.chdir(here)
    words = shlex.split(example, comments=True)
    stdin = None
    if words[0] == "cat":  # `cat FILE | ruen ...`
        stdin = (here / words[1]).read_text(encoding="utf-8")
        words = words[3:]
    assert words[0] == "ruen"
    env = {"RUEN_DB": str(here / "archive.db"), "RUEN_MODEL": str(tiny_model),
           "HF_HUB_OFFLINE": "1", "EDITOR": "true"}
    if path in RUNS_UNTIL_STOPPED:
        _serves_until_stopped(words, env)
        return
    result = runner.invoke(app, words[1:], input=stdin, env=env)
    if example in NEEDS_INTERNET:  # offline, it says what to do in one line
        _one_error_line(result, "Helsinki-NLP/opus-mt-ru-en")
        return
    allowed = (0, 1) if "--fail-on" in words else (0,)  # 1: the checks found problems
    assert result.exit_code in allowed, result.output
    assert "Traceback" not in result.output
