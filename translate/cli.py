"""The `ruen` command: the root app, translation and model commands. It mounts the other
packages' commands and is the one place that wires corpus, translate and eval together."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import nullcontext
from typing import Annotated

import typer

from corpus import cli as corpus_cli
from corpus.console import EXIT_INTERRUPTED, App, err, note, print_error, print_json, progress
from corpus.fetch import FetchSettings
from corpus.formats import PAIR_FORMATS, document_fields, paragraph_separator, write_pairs
from corpus.html import HTML_MODES
from corpus.ingest import DEFAULT_PATTERNS, find_sources
from corpus.options import JsonOption, OutputOption, choice
from corpus.sources import SourceOptions
from corpus.store import Archive, open_archive
from eval import cli as eval_cli
from eval.qa import DEFAULT_CHECKS
from translate import __version__
from translate.cluster import EngineSpec, RayOptions, ray_temp_dir, run_on_ray
from translate.engine import BACKENDS, FIXED_OUTPUT_TOKENS, DecodeSettings, load_engine
from translate.engine.cache import ensure_converted
from translate.engine.ctranslate2 import COMPUTE_TYPES, default_compute_type
from translate.glossary import cli as glossary_cli
from translate.glossary.cli import GlossaryOption, NoGlossaryOption, build_glossary
from translate.job import JobReport, run_job
from translate.model import default_model, download_model, model_summary, resolve_model
from translate.pipeline import DocumentResult, Pipeline
from web import cli as web_cli

app = App(help="Russian→English machine translation into an aligned, searchable archive.")
app.add_typer(corpus_cli.app)
app.add_typer(eval_cli.app)
model_app = App(help="Download and inspect translation models.")
app.add_typer(model_app, name="model")
app.add_typer(glossary_cli.app, name="glossary")
app.add_typer(web_cli.app)  # ruen serve

ModelOption = Annotated[str | None, typer.Option(
    "--model", "-m", envvar="RUEN_MODEL", show_default=False,
    help="Hub name or local directory of a Marian model [default: Helsinki-NLP/opus-mt-ru-en].")]
RevisionOption = Annotated[str | None, typer.Option("--revision", help="Hub revision (commit).")]
DeviceOption = Annotated[str, typer.Option(help="cpu or cuda (cuda:1 for the second GPU)")]
QuantizeOption = Annotated[str | None, typer.Option(
    help=f"Precision: {', '.join(COMPUTE_TYPES)} [default: int8 for ctranslate2 on the CPU, "
         "float16 on CUDA, float32 for transformers on the CPU]", show_default=False,
    **choice(*COMPUTE_TYPES, metavar="TYPE"))]


def _version(value: bool) -> None:
    if value:
        print(f"ruen {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False
         ) -> None:
    """Russian→English machine translation into an aligned, searchable bilingual archive."""


@app.command()
def translate(
    inputs: Annotated[list[str], typer.Argument(
        help="Files, folders (searched recursively), URLs, feeds or - for stdin.",
        show_default=False)],
    model: ModelOption = None,
    revision: RevisionOption = None,
    backend: Annotated[str, typer.Option(help="Decoding library.", **choice(*BACKENDS))
                       ] = "auto",
    device: DeviceOption = "cpu",
    quantize: QuantizeOption = None,
    threads: Annotated[int | None, typer.Option(
        min=1, help="CPU threads [default: all]; CTranslate2 runs two translations side by "
                    "side on half of them each")] = None,
    beam: Annotated[int | None, typer.Option(
        min=1, help="Beam size [default: the model's generation config]")] = None,
    batch_tokens: Annotated[int, typer.Option(min=1, help="Token budget per batch")] = 4096,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output format.",
                                     **choice(*PAIR_FORMATS))] = "text",
    output: OutputOption = None,
    db: corpus_cli.DbOption = None,
    no_archive: Annotated[bool, typer.Option("--no-archive",
                                             help="Do not store anything")] = False,
    no_memory: Annotated[bool, typer.Option(
        "--no-memory", help="Re-translate sentences already in the archive")] = False,
    pattern: Annotated[list[str] | None, typer.Option(
        help="File patterns inside folders [default: *.txt, *.md, *.html, *.htm, *.docx, "
             "*.pdf, *.rss, *.atom]")] = None,
    html: Annotated[str, typer.Option(
        "--html", help="article: a web page's main text (menus, footers, comments dropped); "
                       "all: all of its text, for pages the extractor gets wrong.",
        **choice(*HTML_MODES))] = "article",
    refetch: Annotated[bool, typer.Option(
        "--refetch", help="Fetch URLs (and feed items) the archive already has again")] = False,
    timeout: Annotated[float, typer.Option(
        min=0.001, help="Seconds to wait for a server to connect or send more (URLs, feeds)"
    )] = 20.0,
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    ray: Annotated[str | None, typer.Option(
        "--ray", metavar="ADDRESS", show_default=False,
        help="Decode on a Ray cluster: local (start one on this machine for this run), auto "
             "(the one `ray start` began here) or its address (ray://host:10001). Needs "
             "pip install 'ruen[ray]'.")] = None,
    actors: Annotated[int | None, typer.Option(
        min=1, help="With --ray: engines decoding side by side [default: one per GPU with "
                    "--device cuda, else one]; --threads is per actor")] = None,
    bench_output_tokens: Annotated[int | None, typer.Option(
        "--bench-output-tokens", hidden=True, min=1,
        help="Benchmarks only: decode exactly N tokens per sentence")] = None,
) -> None:
    """Translate Russian text sentence by sentence and store the aligned pairs.

    Examples:

    ```
    ruen translate article.txt
    ruen translate articles/ --db archive.db
    cat article.txt | ruen translate - --format jsonl
    ruen translate article.txt --model ./opus-mt-ru-en --beam 1
    ruen translate article.txt -g mine.tsv --format jsonl -o article.jsonl
    ruen translate page.html
    ruen translate page.html --html all
    ruen translate articles/ --ray local --actors 2 --threads 1
    ```
    """
    reading = SourceOptions(html=html, refetch=refetch, fetch=FetchSettings(timeout=timeout))
    sources = list(find_sources(inputs, pattern or DEFAULT_PATTERNS))
    terms = build_glossary(glossary, no_glossary)  # a broken glossary fails before the model loads
    ref = resolve_model(model, revision)
    with err.status(f"Loading {ref.name}…") if sys.stderr.isatty() else nullcontext():
        # With --ray the driver's engine never decodes (the actors' do): it is loaded on the CPU,
        # which the driver always has (a CTranslate2 model's weights are not even read).
        engine = load_engine(ref, backend, device=device, quantize=quantize, threads=threads
                             ) if ray is None else load_engine(
            ref, backend, quantize=quantize if device == "cpu" else None, threads=1)
    archive = None if no_archive else open_archive(db, readonly=False)
    extra = {FIXED_OUTPUT_TOKENS: bench_output_tokens} if bench_output_tokens else {}
    settings = DecodeSettings(beam=beam, max_batch_tokens=batch_tokens, extra=extra)
    pipeline = Pipeline(engine, settings, archive=archive, use_memory=not no_memory,
                        glossary=terms,
                        checks=DEFAULT_CHECKS)  # QA flags stored with each translation
    out = output.open("w", encoding="utf-8") if output else sys.stdout

    last_input = 0  # the number of the input last written

    def write(number: int, result: DocumentResult) -> None:
        nonlocal last_input
        separator = paragraph_separator(result.document.text)
        if fmt == "text" and last_input:
            # a blank line between inputs; between the parts of a long one (translate.job),
            # the paragraph break (write_pairs has already ended the line)
            out.write("\n" if number != last_input else separator[1:])
        last_input = number
        write_pairs(result.pairs, fmt, out, separator, document_fields(result.document.metadata))
        out.flush()

    report = JobReport()
    stop = threading.Event()

    def on_ctrl_c(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop at once
        stop.set()
        note("Stopping after the current batch (Ctrl-C again to stop at once)…")

    pipeline.should_stop = stop.is_set
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_ctrl_c) if in_main_thread else None
    try:
        with progress() as bar:
            task = bar.add_task("Translating", total=None)
            pipeline.on_progress = lambda n: bar.advance(task, n)

            def written(number: int, result: DocumentResult) -> None:
                write(number, result)
                bar.update(task, description=f"Translating ({report.documents} documents)")

            on_total = lambda n: bar.update(task, total=n)  # noqa: E731
            if ray is None:
                run_job(pipeline, sources, on_result=written, report=report,
                        on_total=on_total, options=reading)
            else:  # the same stages, decoding on Ray actors (translate.cluster)
                run_on_ray(pipeline, EngineSpec(ref, backend, device, quantize, threads),
                           sources, on_result=written, report=report, on_total=on_total,
                           options=reading,
                           ray_options=RayOptions(ray, actors, temp_dir=ray_temp_dir()))
    except KeyboardInterrupt:
        note(_interrupted(report, archive))
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
        if output:
            out.close()
        if archive:
            archive.close()
    if report.skipped:
        already = ", ".join(f"{s.source} (document {s.doc})" for s in report.skipped[:3])
        more = f" and {len(report.skipped) - 3} more" if len(report.skipped) > 3 else ""
        note(f"Already in the archive, not fetched again (--refetch to): {already}{more}.")
    for message in report.failed:
        print_error(message)
    if report.failed:
        raise typer.Exit(2)


def _interrupted(report: JobReport, archive: Archive | None) -> str:
    done = f"{report.documents} document(s), {report.sentences} sentence(s)"
    if archive is None:
        return f"Interrupted: {done} translated; nothing stored (--no-archive)."
    unfinished = f" {report.current} was not finished and is not stored." if report.current else ""
    return (f"Interrupted: {done} finished and stored in {archive.path}.{unfinished} Run the "
            "same command again to finish; stored sentences are not translated twice.")


@model_app.command("download")
def model_download(name: Annotated[str, typer.Argument(help="Hub name of a Marian model.")
                                   ] = "Helsinki-NLP/opus-mt-ru-en",
                   revision: RevisionOption = None, json: JsonOption = False) -> None:
    """Fetch a model into the Hugging Face cache (needs internet; later runs work offline).

    Example:

    ```
    ruen model download Helsinki-NLP/opus-mt-ru-en
    ```
    """
    ref = download_model(name, revision)
    if json:
        print_json({"model": ref.name, "revision": ref.revision, "path": str(ref.path)})
        return
    print(f"{ref.name} @ {ref.revision}: {ref.path}")


@model_app.command("convert")
def model_convert(model: ModelOption = None, revision: RevisionOption = None,
                  device: DeviceOption = "cpu", quantize: QuantizeOption = None,
                  force: Annotated[bool, typer.Option("--force", help="Convert again")] = False,
                  json: JsonOption = False) -> None:
    """Convert a model for the CTranslate2 backend now (otherwise done on first use) and cache
    it (under RUEN_CACHE or the per-user cache directory).

    Example:

    ```
    ruen model convert --model ./opus-mt-ru-en --quantize int8
    ```
    """
    ref = resolve_model(model, revision)
    with err.status(f"Converting {ref.name}…") if sys.stderr.isatty() else nullcontext():
        result = ensure_converted(ref, quantize or default_compute_type(device), force=force)
    if json:
        print_json({"model": ref.name, "revision": ref.revision, "path": str(result.path),
                    "quantize": result.quantization, "converted": result.converted})
        return
    state = "converted" if result.converted else "already converted"
    print(f"{ref.name} @ {ref.revision} ({result.quantization}, {state}): {result.path}")


@model_app.command("info")
def model_info(model: ModelOption = None, revision: RevisionOption = None,
               json: JsonOption = False) -> None:
    """Show which model would be used, where its files are and its shape.

    Example:

    ```
    ruen model info --model ./opus-mt-ru-en
    ```
    """
    summary = model_summary(resolve_model(model, revision))
    summary["default"] = default_model()
    summary["offline"] = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if json:
        print_json(summary)
        return
    for key, value in summary.items():
        print(f"{key:>24}: {', '.join(value) if isinstance(value, list) else value}")
