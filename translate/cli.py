"""The `ruen` command: the root app, translation and model commands. It mounts the other
packages' commands and is the one place that wires corpus, translate and eval together."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from corpus import cli as corpus_cli
from corpus.console import App, err, print_json, progress
from corpus.formats import PAIR_FORMATS, paragraph_separator, write_pairs
from corpus.ingest import DEFAULT_PATTERNS, find_sources
from corpus.store import Archive, default_archive_path
from eval import cli as eval_cli
from eval.qa import DEFAULT_CHECKS
from translate import __version__
from translate.engine import BACKENDS, DecodeSettings, load_engine
from translate.job import JobReport, run_job
from translate.model import default_model, download_model, model_summary, resolve_model
from translate.pipeline import DocumentResult, Pipeline

app = App(help="Russian→English machine translation into an aligned, searchable archive.")
app.add_typer(corpus_cli.app)
app.add_typer(eval_cli.app)
model_app = App(help="Download and inspect translation models.")
app.add_typer(model_app, name="model")

ModelOption = Annotated[str | None, typer.Option(
    "--model", "-m", envvar="RUEN_MODEL", show_default=False,
    help="Hub name or local directory of a Marian model [default: Helsinki-NLP/opus-mt-ru-en].")]
RevisionOption = Annotated[str | None, typer.Option("--revision", help="Hub revision (commit).")]


def _version(value: bool) -> None:
    if value:
        print(f"ruen {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=_version,
                                               is_eager=True)] = False) -> None:
    """Russian→English machine translation into an aligned, searchable bilingual archive."""


@app.command()
def translate(
    inputs: Annotated[list[str], typer.Argument(
        help="Files, folders (searched recursively) or - for stdin.", show_default=False)],
    model: ModelOption = None,
    revision: RevisionOption = None,
    backend: Annotated[str, typer.Option(help=" | ".join(BACKENDS))] = "auto",
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    quantize: Annotated[str | None, typer.Option(help="int8: quantise on the CPU")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads [default: all]")] = None,
    beam: Annotated[int | None, typer.Option(
        help="Beam size [default: the model's generation config]")] = None,
    batch_tokens: Annotated[int, typer.Option(help="Token budget per batch")] = 4096,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text | tsv | jsonl")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write here instead of stdout")] = None,
    db: corpus_cli.DbOption = None,
    no_archive: Annotated[bool, typer.Option("--no-archive",
                                             help="Do not store anything")] = False,
    no_memory: Annotated[bool, typer.Option(
        "--no-memory", help="Re-translate sentences already in the archive")] = False,
    pattern: Annotated[list[str] | None, typer.Option(
        help="File patterns inside folders [default: *.txt, *.md]")] = None,
) -> None:
    """Translate Russian text sentence by sentence and store the aligned pairs.

    Examples:

        ruen translate article.txt
        ruen translate articles/ --db archive.db
        cat article.txt | ruen translate - --format jsonl
        ruen translate article.txt --model ./opus-mt-ru-en --beam 1
    """
    if fmt not in PAIR_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(PAIR_FORMATS)}", param_hint="--format")
    sources = list(find_sources(inputs, pattern or DEFAULT_PATTERNS))
    ref = resolve_model(model, revision)
    with err.status(f"Loading {ref.name}…") if sys.stderr.isatty() else nullcontext():
        engine = load_engine(ref, backend, device=device, quantize=quantize, threads=threads)
    archive = None if no_archive else Archive(db or default_archive_path())
    settings = DecodeSettings(beam=beam, max_batch_tokens=batch_tokens)
    pipeline = Pipeline(engine, settings, archive=archive, use_memory=not no_memory,
                        checks=DEFAULT_CHECKS)  # QA flags stored with each translation
    out = output.open("w", encoding="utf-8") if output else sys.stdout

    def write(number: int, result: DocumentResult) -> None:
        if fmt == "text" and number > 1:
            out.write("\n")
        write_pairs(result.pairs, fmt, out, paragraph_separator(result.document.text))
        out.flush()

    report = JobReport()
    try:
        with progress() as bar:
            task = bar.add_task("Translating", total=None)
            pipeline.on_progress = lambda n: bar.advance(task, n)
            run_job(pipeline, sources, on_result=write, report=report,
                    on_total=lambda n: bar.update(task, total=n))
    except KeyboardInterrupt:
        where = f" in {archive.path}" if archive else ""
        err.print(f"Interrupted: {report.documents} document(s) finished and stored{where}.")
        raise typer.Exit(130) from None
    finally:
        if output:
            out.close()
        if archive:
            archive.close()
    for message in report.failed:
        err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(2)


@model_app.command("download")
def model_download(name: Annotated[str, typer.Argument()] = "Helsinki-NLP/opus-mt-ru-en",
                   revision: RevisionOption = None) -> None:
    """Fetch a model into the Hugging Face cache (needs internet; later runs work offline).

    Example: `ruen model download Helsinki-NLP/opus-mt-ru-en`
    """
    ref = download_model(name, revision)
    print(f"{ref.name} @ {ref.revision}: {ref.path}")


@model_app.command("info")
def model_info(model: ModelOption = None, revision: RevisionOption = None,
               json: bool = typer.Option(False, "--json")) -> None:
    """Show which model would be used, where its files are and its shape.

    Example: `ruen model info --model ./opus-mt-ru-en`
    """
    summary = model_summary(resolve_model(model, revision))
    summary["default"] = default_model()
    summary["offline"] = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if json:
        print_json(summary)
        return
    for key, value in summary.items():
        print(f"{key:>24}: {', '.join(value) if isinstance(value, list) else value}")
