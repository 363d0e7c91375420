"""Archive commands: list, show, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corpus.console import App, print_json
from corpus.formats import PAIR_FORMATS, paragraph_separator, write_pairs
from corpus.store import Archive, default_archive_path

app = App()

DbOption = Annotated[Path, typer.Option("--db", envvar="RUEN_DB", show_default=False,
                                         help="Archive file [default: per-user data dir].")]


def open_archive(db: Path | None, *, readonly: bool = True) -> Archive:
    return Archive(db or default_archive_path(), readonly=readonly)


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
    table = Table("doc", "sentences", "title", "path", "added")
    for d in documents:
        table.add_row(str(d.id), str(d.segments), d.title, d.path, d.created)
    Console().print(table)


@app.command()
def show(doc: int, db: DbOption = None, json: bool = typer.Option(False, "--json")) -> None:
    """Show a document's sentences side by side with their current translations.

    Example: `ruen show 1 --db archive.db`
    """
    with open_archive(db) as archive:
        document = archive.document(doc)
        pairs = list(archive.pairs(doc))
    if json:
        print_json([p.as_json() for p in pairs])
        return
    table = Table("#", "Russian", "English", title=f"{doc}: {document.title}", show_lines=True)
    for p in pairs:
        table.add_row(str(p.index), p.ru, p.en)
    Console().print(table)


@app.command()
def export(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="tsv | jsonl | text")] = "tsv",
    doc: Annotated[list[int] | None, typer.Option("--doc", help="Only these documents.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Write every stored sentence pair (current translations), in document order.

    Example: `ruen export --db archive.db --format tsv -o pairs.tsv`
    """
    if fmt not in PAIR_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(PAIR_FORMATS)}", param_hint="--format")
    with open_archive(db) as archive:
        ids = doc or [d.id for d in archive.documents()]
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for doc_id in ids:
                separator = paragraph_separator(archive.document(doc_id).text)
                write_pairs(archive.pairs(doc_id), fmt, out, separator)
        finally:
            if output:
                out.close()
