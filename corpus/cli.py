"""Archive commands: list, show, export, import, search, edit and tm lookup."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TextIO

import click
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from corpus.console import App, err, print_json
from corpus.errors import ArchiveOutdated
from corpus.formats import PAIR_FORMATS, document_fields, paragraph_separator, write_pairs
from corpus.interchange import (
    IMPORT_FORMATS,
    IMPORT_KINDS,
    import_file,
    moses_paths,
    write_moses,
    write_tmx,
)
from corpus.search import DEFAULT_LIMIT, LANGS, Hit, Searcher, kwic_window, search
from corpus.store import Archive, HistoryEntry, default_archive_path
from corpus.tm import DEFAULT_THRESHOLD, lookup

app = App()

DbOption = Annotated[Path, typer.Option("--db", envvar="RUEN_DB", show_default=False,
                                         help="Archive file [default: per-user data dir].")]


def open_archive(db: Path | None, *, readonly: bool = True) -> Archive:
    path = db or default_archive_path()
    try:
        return Archive(path, readonly=readonly)
    except ArchiveOutdated:
        Archive(path).close()  # made by an older ruen: upgrade it once (keeps everything)
        return Archive(path, readonly=readonly)


@app.command("list")
def list_documents(db: DbOption = None, json: bool = typer.Option(False, "--json")) -> None:
    """List the documents in the archive.

    Example: `ruen list --db archive.db`
    """
    with open_archive(db) as archive:
        documents = archive.documents()
    if json:
        print_json([d.__dict__ for d in documents])
        return
    table = Table("doc", "sentences", "title", "published", "site", "path / url", "added")
    for d in documents:
        table.add_row(str(d.id), str(d.segments), d.title, d.published or "",
                      d.site or d.host or "", d.url or d.path, d.created)
    Console().print(table)


@app.command()
def show(doc: int, db: DbOption = None, json: bool = typer.Option(False, "--json"),
         history: Annotated[bool, typer.Option(
             "--history", help="Every translation of each sentence, oldest first.")] = False,
         text: Annotated[bool, typer.Option(
             "--text", help="The document's text as stored (what jsonl start/end index), "
                            "after its metadata with --json.")] = False,
         ) -> None:
    """Show a document's sentences side by side with their current translations, under its
    title, author, date, site and URL.

    Example: `ruen show 1 --db archive.db`, `ruen show 1 --history`, `ruen show 1 --text`
    """
    with open_archive(db) as archive:
        document = archive.document(doc)
        if text:
            if json:
                print_json({"doc": doc, "path": document.path, **document.metadata,
                            "title": document.title, "text": document.text})
            else:
                sys.stdout.write(document.text + "\n")
            return
        if history:
            _print_history(f"{doc}: {document.title}", archive.history(doc), json)
            return
        pairs = list(archive.pairs(doc))
    if json:
        print_json([p.as_json() for p in pairs])
        return
    about = " · ".join(v for k, v in document_fields(document.metadata).items() if k != "title")
    table = Table("#", "Russian", "English", title=f"{doc}: {document.title}", show_lines=True,
                  caption=about or None)
    for p in pairs:
        table.add_row(str(p.index), p.ru, p.en)
    Console().print(table)


def _print_history(title: str, entries: list[HistoryEntry], json: bool) -> None:
    if json:
        print_json([e.__dict__ for e in entries])
        return
    table = Table("#", "Russian", "kind", "English", "when / system", title=title)
    previous = None
    for e in entries:
        first = e.index != previous
        previous = e.index
        if first and table.row_count:
            table.add_section()
        table.add_row(str(e.index) if first else "", e.ru if first else "",
                      ("▶ " if e.current else "  ") + e.kind, e.en,
                      e.created + (f"\n{e.system}" if e.system else ""),
                      style=None if e.current else "dim")
    Console().print(table)


@app.command()
def export(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="tsv | jsonl | text | tmx | moses")] = "tsv",
    doc: Annotated[list[int] | None, typer.Option("--doc", help="Only these documents.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File; for moses the NAME of NAME.ru and NAME.en")] = None,
) -> None:
    """Write every stored sentence pair (current translations), in document order.

    Examples:

    ```
    ruen export --db archive.db --format tsv -o pairs.tsv
    ruen export --format tmx --doc 3 -o article3.tmx
    ruen export --format moses -o corpus    # writes corpus.ru and corpus.en
    ```
    """
    if fmt not in (*PAIR_FORMATS, "tmx", "moses"):
        raise typer.BadParameter(f"choose one of {', '.join(PAIR_FORMATS)}, tmx, moses",
                                 param_hint="--format")
    if fmt == "moses" and output is None:
        raise typer.BadParameter("moses writes two files: give their NAME with -o NAME",
                                 param_hint="--output")
    with open_archive(db) as archive:
        ids = doc or [d.id for d in archive.documents()]
        titles = {i: archive.document(i).title for i in ids}
        fields = {i: document_fields(archive.document(i).metadata) for i in ids}
        if fmt == "tmx":
            with output.open("w", encoding="utf-8") if output else _stdout() as out:
                write_tmx(((titles[i], p) for i in ids for p in archive.pairs(i)), out, fields)
            return
        if fmt == "moses":
            ru_path, en_path = moses_paths(output)  # type: ignore[arg-type]
            with ru_path.open("w", encoding="utf-8") as ru, \
                    en_path.open("w", encoding="utf-8") as en:
                count = write_moses((p for i in ids for p in archive.pairs(i)), ru, en)
            err.print(f"{count} line pairs: {ru_path}, {en_path}")
            return
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for doc_id in ids:
                separator = paragraph_separator(archive.document(doc_id).text)
                write_pairs(archive.pairs(doc_id), fmt, out, separator, fields[doc_id])
        finally:
            if output:
                out.close()


class _stdout:
    """stdout as a context manager that does not close it."""

    def __enter__(self) -> TextIO:
        return sys.stdout

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="TMX, TSV or JSONL files.",
                                                show_default=False)],
    kind: Annotated[str, typer.Option(help=" | ".join(IMPORT_KINDS))] = "reference",
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="auto | " + " | ".join(IMPORT_FORMATS))] = "auto",
    db: DbOption = None,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Store human translations from TMX, TSV or JSONL files as references or post-edits.

    Sentences of a document already in the archive get the translations added; others become
    new documents. A malformed file stores nothing and names its line.

    Examples:

    ```
    ruen import memory.tmx --kind reference
    ruen import corrected.jsonl --kind post-edit --db archive.db
    ```
    """
    report = []
    with open_archive(db, readonly=False) as archive:
        for path in files:
            for outcome in import_file(archive, path, kind=kind, fmt=fmt):  # type: ignore[arg-type]
                report.append({"file": str(path), "doc": outcome.doc_id,
                               "new_document": outcome.new_document, "added": outcome.added})
    if json:
        print_json(report)
        return
    for r in report:
        where = "new document" if r["new_document"] else "existing document"
        print(f"{r['file']}: {r['added']} {kind} translation(s) into {where} {r['doc']}")


@app.command()
def edit(
    doc: Annotated[int, typer.Argument(help="Document id (`ruen list`).")],
    index: Annotated[int, typer.Argument(help="Sentence index (`ruen show DOC`).")],
    text: Annotated[str | None, typer.Argument(
        help="The corrected English; omitted: edit it in $EDITOR.", show_default=False)] = None,
    db: DbOption = None,
) -> None:
    """Correct one sentence's translation; the post-edit becomes the current translation and
    is reused for identical sentences from now on. The old translations stay in the history.

    Examples:

    ```
    ruen edit 1 4 "The Fourth Division withdrew from Hama."
    ruen edit 1 4            # opens $EDITOR with the current translation
    ```
    """
    with open_archive(db, readonly=False) as archive:
        if text is None:
            segment = archive.segment_id(doc, index)
            current = Searcher(archive).current_translation(segment)[0]
            edited = click.edit(current + "\n")
            if edited is None:
                err.print("Not saved in the editor: nothing stored.")
                return
            text = edited.strip()
        if not archive.post_edit(doc, index, text):
            err.print(f"{doc}:{index} already reads so: nothing stored.")
            return
    err.print(f"{doc}:{index} post-edited.")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND OR NOT, ( ), prefix*.',
                                         show_default=False)],
    lang: Annotated[str, typer.Option(help=" | ".join(LANGS))] = "both",
    exact: Annotated[bool, typer.Option(
        "--exact", help="Match word forms, not lemmas (ru) or stems (en).")] = False,
    doc: Annotated[list[int] | None, typer.Option("--doc", help="Only these documents.")] = None,
    since: Annotated[str | None, typer.Option(
        help="Only documents published (else added) on or after this date (2026-11-01).")
    ] = None,
    until: Annotated[str | None, typer.Option(
        help="Only documents published (else added) on or before this date.")] = None,
    site: Annotated[str | None, typer.Option(
        help="Only documents from this site: its name or its host (ria.ru, with subdomains)")
    ] = None,
    system: Annotated[str | None, typer.Option(
        help="Only translations by this system (id or part of the model name).")] = None,
    limit: Annotated[int, typer.Option(help="Hits to show.")] = DEFAULT_LIMIT,
    offset: Annotated[int, typer.Option(help="Hits to skip (the next page).")] = 0,
    db: DbOption = None,
    json: bool = typer.Option(False, "--json", help="A JSON list with highlight spans."),
) -> None:
    """Search the archive in Russian, English or both: every form of a Russian word, every
    English word with the same stem, ranked by bm25, with the aligned translation beside each hit.

    Examples:

    ```
    ruen search Хомс                       # also finds Хомса, Хомсе, Хомсом
    ruen search '"Четвертая дивизия" OR "4-я дивизия"' --lang ru
    ruen search 'advance NOT Hama' --lang en --since 2026-11-01 --until 2026-11-30
    ruen search Хама --site vestnik-vostoka.example
    ruen search 'освобо*' --exact --json
    ```
    """
    with open_archive(db) as archive:
        hits = search(archive, query, lang=lang, exact=exact, docs=doc or (), since=since,
                      until=until, site=site, system=system, limit=limit,
                      offset=offset)  # type: ignore[arg-type]
    if json:
        print_json([h.as_json() for h in hits])
        return
    if not hits:
        err.print("No matches.")
        return
    console = Console(highlight=False)
    for hit in hits:
        console.print(_kwic(hit))


def _marked(text: str, spans: tuple[tuple[int, int], ...]) -> Text:
    excerpt, inside = kwic_window(text, spans)
    rendered = Text(excerpt)
    for start, end in inside:
        rendered.stylize("bold reverse", start, end)
    return rendered


def _kwic(hit: Hit) -> Text:
    head = Text.assemble((f"{hit.doc}:{hit.index}", "bold cyan"), "  ", (hit.title, "dim"),
                         f"  {hit.score:.2f}\n")
    english = _marked(hit.en, hit.en_spans) if hit.en else Text("(no translation)", "dim")
    return Text.assemble(head, "  ru  ", _marked(hit.ru, hit.ru_spans), "\n  en  ", english,
                         f"  [{hit.kind}]" if hit.kind and hit.kind != "mt" else "", "\n")


tm_app = App(help="Translation memory: find stored translations of similar sentences.")
app.add_typer(tm_app, name="tm")


@tm_app.command("lookup")
def tm_lookup(
    sentence: Annotated[str, typer.Argument(help="A Russian sentence.", show_default=False)],
    limit: Annotated[int, typer.Option(help="Matches to show.")] = 5,
    threshold: Annotated[float, typer.Option(
        help="Lowest similarity shown, 0-100.")] = DEFAULT_THRESHOLD,
    db: DbOption = None,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Stored sentences similar to SENTENCE with their translations and similarity (0-100).

    Example: `ruen tm lookup "Силы режима отступают под давлением повстанцев."`
    """
    with open_archive(db) as archive:
        matches = lookup(archive, sentence, limit=limit, threshold=threshold)
    if json:
        print_json([m.as_json() for m in matches])
        return
    if not matches:
        err.print(f"No stored sentence is {threshold:.0f}% similar or more.")
        return
    table = Table("%", "Russian", "English", "where")
    for m in matches:
        table.add_row(f"{m.similarity:.0f}", m.ru, m.en + ("" if m.kind == "mt" else
                                                          f" [{m.kind}]"), f"{m.doc}:{m.index}")
    Console().print(table)
