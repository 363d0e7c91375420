"""Archive commands: list, show, export, import, search, edit, tm lookup and archive copy."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import click
import typer
from rich.table import Table
from rich.text import Text

from corpus.console import App, note, out, print_json, progress
from corpus.copy import TABLES, copy_archive
from corpus.formats import PAIR_FORMATS, document_fields, paragraph_separator, write_pairs
from corpus.interchange import (
    IMPORT_FORMATS,
    IMPORT_KINDS,
    import_file,
    moses_paths,
    write_moses,
    write_tmx,
)
from corpus.options import (
    DbOption,
    DocOption,
    EditorOption,
    JsonOption,
    OutputOption,
    choice,
    default_editor,
)
from corpus.search import DEFAULT_LIMIT, LANGS, Hit, Searcher, kwic_window, search
from corpus.store import SELECTIONS, HistoryEntry, open_archive
from corpus.tm import DEFAULT_THRESHOLD, lookup
from corpus.types import SentencePair
from corpus.xliff import import_xliff, is_xliff, write_xliff

app = App()


@app.command("list")
def list_documents(db: DbOption = None, json: JsonOption = False) -> None:
    """List the documents in the archive.

    Example:

    ```
    ruen list --db archive.db
    ```
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
    out.print(table)


@app.command()
def show(doc: Annotated[int, typer.Argument(min=1, help="Document id (`ruen list`).")],
         db: DbOption = None, json: JsonOption = False,
         history: Annotated[bool, typer.Option(
             "--history", help="Every translation of each sentence, oldest first.")] = False,
         text: Annotated[bool, typer.Option(
             "--text", help="The document's text as stored (what jsonl start/end index), "
                            "after its metadata with --json.")] = False,
         ) -> None:
    """Show a document's sentences side by side with their current translations, under its
    title, author, date, site and URL: the newest post-edit, else the newest machine
    translation, else the newest reference; the kind column says which, and where a
    translation was copied from memory.

    Examples:

    ```
    ruen show 1 --db archive.db
    ruen show 1 --history
    ruen show 1 --text
    ```
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
        pairs = list(archive.pairs(doc, fallback_reference=True))
    if json:
        print_json([p.as_json() for p in pairs])
        return
    about = " · ".join(v for k, v in document_fields(document.metadata).items() if k != "title")
    table = Table("#", "Russian", "English", "kind", title=f"{doc}: {document.title}",
                  show_lines=True, caption=about or None)
    for p in pairs:
        table.add_row(str(p.index), p.ru, p.en,
                      p.kind + (" (from memory)" if p.origin == "tm" else ""))
    out.print(table)


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
        kind = ("▶ " if e.current else "  ") + e.kind
        if e.editor:
            kind += f"\n  by {e.editor}"
        if e.origin == "tm":
            kind += f"\n  from memory: #{e.source_id} ({e.source})" if e.source_id else \
                "\n  from memory"
        en = e.en + ("" if e.score is None else f"\n(log-prob per token {e.score:.2f})")
        table.add_row(str(e.index) if first else "", e.ru if first else "", kind, en,
                      e.created + (f"\n{e.system}" if e.system else ""),
                      style=None if e.current else "dim")
    out.print(table)


@app.command()
def export(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="Output format.",
        **choice(*PAIR_FORMATS, "tmx", "xliff", "moses"))] = "tsv",
    doc: DocOption = None,
    output: OutputOption = None,
    kind: Annotated[str, typer.Option(
        "--kind", help="current (post-edit, else mt, else reference), mt, post-edit, "
                       "reference, or all (every translation, one unit each).",
        **choice(*SELECTIONS))] = "current",
) -> None:
    """Write stored sentence pairs in document order: each sentence's current translation, or
    every translation of one kind, or all of them; for moses, -o NAME writes NAME.ru and
    NAME.en.

    Examples:

    ```
    ruen export --db archive.db --format tsv -o pairs.tsv
    ruen export --format tmx --doc 1 -o article1.tmx
    ruen export --format tmx --kind all -o everything.tmx
    ruen export --format xliff --doc 1 -o article1.xlf
    ruen export --format moses -o corpus
    ```
    """
    if fmt == "xliff" and kind != "current":
        raise typer.BadParameter("XLIFF has one target per sentence: the current one",
                                 param_hint="--kind")
    if fmt == "moses" and output is None:
        raise typer.BadParameter("moses writes two files: give their NAME with -o NAME",
                                 param_hint="--output")
    with open_archive(db) as archive:
        ids = doc or [d.id for d in archive.documents()]
        documents = {i: archive.document(i) for i in ids}  # a missing --doc fails here
        fields = {i: document_fields(documents[i].metadata) for i in ids}

        def pairs(doc_id: int) -> Iterator[SentencePair]:
            return archive.pairs(doc_id, kind=kind, fallback_reference=True)  # type: ignore[arg-type]

        if fmt in ("tmx", "xliff"):
            with output.open("w", encoding="utf-8") if output else _stdout() as out:
                if fmt == "tmx":
                    write_tmx(((documents[i].title, p) for i in ids for p in pairs(i)), out,
                              fields)
                else:
                    write_xliff(((documents[i], pairs(i)) for i in ids), out)
            return
        if fmt == "moses":
            ru_path, en_path = moses_paths(output)  # type: ignore[arg-type]
            with ru_path.open("w", encoding="utf-8") as ru, \
                    en_path.open("w", encoding="utf-8") as en:
                count = write_moses((p for i in ids for p in pairs(i)), ru, en)
            note(f"{count} line pairs: {ru_path}, {en_path}")
            return
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for doc_id in ids:
                separator = paragraph_separator(documents[doc_id].text)
                write_pairs(pairs(doc_id), fmt, out, separator, fields[doc_id])
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
    files: Annotated[list[Path], typer.Argument(help="TMX, TSV, JSONL or XLIFF files.",
                                                show_default=False)],
    kind: Annotated[str | None, typer.Option(
        help="What the translations are [default: as each unit of a ruen export says, "
             "else reference].", show_default=False, **choice(*IMPORT_KINDS))] = None,
    fmt: Annotated[str, typer.Option(  # --format is the output format everywhere else
        "--from", help="Input format [default: auto, from the file name].",
        **choice("auto", *IMPORT_FORMATS, "xliff"))] = "auto",
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Store human translations from TMX, TSV or JSONL files as references or post-edits, or
    the changed targets of an XLIFF file post-edited in a CAT tool as post-edits.

    A file whose sentences are a stored document's (by content, to its last sentence) adds its
    translations to that document; others become new documents. A malformed file stores
    nothing and names its line. TSV: `ru<TAB>en`, with or without a header row (`ru<TAB>en`,
    `source<TAB>target`, language tags...).

    Examples:

    ```
    ruen import memory.tmx
    ruen import corrected.jsonl --kind post-edit --db archive.db
    ruen import pairs.tsv --from tsv --kind reference
    ruen import article1.xlf
    ```
    """
    report = []
    with open_archive(db, readonly=False) as archive:
        for path in files:
            if fmt == "xliff" or (fmt == "auto" and is_xliff(path)):
                report += [{"file": str(path), "doc": o.doc_id, "new_document": False,
                            "added": o.edited, "unchanged": o.unchanged, "kind": "post-edit"}
                           for o in import_xliff(archive, path)]
                continue
            for outcome in import_file(archive, path, kind=kind, fmt=fmt):  # type: ignore[arg-type]
                report.append({"file": str(path), "doc": outcome.doc_id,
                               "new_document": outcome.new_document, "added": outcome.added,
                               "kind": ", ".join(outcome.kinds or [kind or "reference"])})
    if json:
        print_json(report)
        return
    for r in report:  # what was stored: a summary, on stderr
        where = "new document" if r["new_document"] else "existing document"
        unchanged = f", {r['unchanged']} unchanged" if "unchanged" in r else ""
        note(f"{r['file']}: {r['added']} {r['kind']} translation(s) into {where} "
             f"{r['doc']}{unchanged}")


@app.command()
def edit(
    doc: Annotated[int, typer.Argument(min=1, help="Document id (`ruen list`).")],
    index: Annotated[int, typer.Argument(min=0, help="Sentence index (`ruen show DOC`).")],
    text: Annotated[str | None, typer.Argument(
        help="The corrected English; omitted: edit it in $EDITOR.", show_default=False)] = None,
    db: DbOption = None,
    editor: EditorOption = None,
    json: JsonOption = False,
) -> None:
    """Correct one sentence's translation; the post-edit becomes the current translation and
    is reused for identical sentences from now on. The old translations stay in the history.

    Examples:

    ```
    ruen edit 1 4 "The Fourth Division withdrew from Hama."
    ruen edit 1 4            # opens $EDITOR with the current translation
    ruen edit 1 4 "Hama was taken." --editor anna
    ```
    """
    with open_archive(db, readonly=False) as archive:
        if text is None:
            segment = archive.segment_id(doc, index)
            current = Searcher(archive).current_translation(segment)[0]
            edited = click.edit(current + "\n")
            text = None if edited is None else edited.strip()
        stored = text is not None and archive.post_edit(doc, index, text,
                                                        editor=editor or default_editor())
    if json:
        print_json({"doc": doc, "index": index, "stored": stored, "en": text})
    elif text is None:
        note("Not saved in the editor: nothing stored.")
    elif not stored:
        note(f"{doc}:{index} already reads so: nothing stored.")
    else:
        note(f"{doc}:{index} post-edited.")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND OR NOT, ( ), prefix*.',
                                         show_default=False)],
    lang: Annotated[str, typer.Option(help="Which side to search.", **choice(*LANGS))
                    ] = "both",
    exact: Annotated[bool, typer.Option(
        "--exact", help="Match word forms, not lemmas (ru) or stems (en).")] = False,
    doc: DocOption = None,
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
    limit: Annotated[int, typer.Option(min=1, help="Hits to show.")] = DEFAULT_LIMIT,
    offset: Annotated[int, typer.Option(min=0, help="Hits to skip (the next page).")] = 0,
    db: DbOption = None,
    json: Annotated[bool, typer.Option("--json", help="A JSON list with highlight spans.")
                    ] = False,
) -> None:
    """Search the archive in Russian, English or both: every form of a Russian word, every
    form of an English word (by lemma, then stem), ranked by bm25, with the aligned
    translation beside each hit. --since/--until are publication dates (the day a document
    was added when it has none).

    Examples:

    ```
    ruen search Хомс                       # also finds Хомса, Хомсе, Хомсом
    ruen search '"Четвертая дивизия" OR "4-я дивизия"' --lang ru
    ruen search 'advance NOT Hama' --lang en
    ruen search Хомс --since 2026-11-01 --until 2026-11-30
    ruen search Хама --site vestnik-vostoka.example
    ruen search 'освобо*' --exact --json
    ```
    """
    with open_archive(db) as archive:
        for doc_id in doc or ():
            archive.document(doc_id)  # a --doc that is not there is a mistake, not "no hits"
        hits = search(archive, query, lang=lang, exact=exact, docs=doc or (), since=since,
                      until=until, site=site, system=system, limit=limit,
                      offset=offset)  # type: ignore[arg-type]
    if json:
        print_json([h.as_json() for h in hits])
        return
    if not hits:
        note("No matches.")
        return
    console = out
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
    limit: Annotated[int, typer.Option(min=1, help="Matches to show.")] = 5,
    threshold: Annotated[float, typer.Option(
        min=0, max=100, help="Lowest score shown, 0-100.")] = DEFAULT_THRESHOLD,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Stored sentences like SENTENCE, with each translation, its kind and the score (0-100).

    Scores are OmegaT's fuzzy match on lemmas (`words`: on word forms); a longer stored
    sentence containing a run of your words is a fragment match, scored by how much of your
    sentence it covers (the run is underlined). Human translations come first at equal scores.

    Example:

    ```
    ruen tm lookup "Силы режима отступают под давлением повстанцев." --json
    ```
    """
    with open_archive(db) as archive:
        matches = lookup(archive, sentence, limit=limit, threshold=threshold)
    if json:
        print_json([m.as_json() for m in matches])
        return
    if not matches:
        note(f"No stored sentence is {threshold:.0f}% similar or more.")
        return
    table = Table("%", "match", "Russian", "English", "kind", "where")
    for m in matches:
        ru = Text(m.ru)
        if m.span:
            ru.stylize("underline", *m.span)
        table.add_row(f"{m.similarity:.0f}", m.match if m.match == "fragment" else
                      f"fuzzy (words {m.words:.0f})", ru, m.en, m.kind, f"{m.doc}:{m.index}")
    out.print(table)


archive_app = App(help="The archive as a whole: copy it between files and PostgreSQL.")
app.add_typer(archive_app, name="archive")


@archive_app.command("copy")
def archive_copy(
    source: Annotated[str, typer.Argument(
        metavar="SRC", show_default=False,
        help="The archive to copy: a file or a postgresql:// URL.")],
    destination: Annotated[str, typer.Argument(
        metavar="DST", show_default=False,
        help="Where to: a new file, or an empty PostgreSQL database (or schema).")],
    json: JsonOption = False,
) -> None:
    """Copy a whole archive, between SQLite and PostgreSQL too: every document, translation,
    post-edit, term hit, QA flag, alternative and eval run, with the same ids.

    DST must be empty (a new file, an empty database); the copy is one transaction, checked by
    counting every table on both sides before it is committed. A URL is
    postgresql://user@host:port/dbname.

    Examples:

    ```
    ruen archive copy archive.db desk-copy.db
    ruen archive copy archive.db backup.db --json
    ```
    """
    with open_archive(source) as src, open_archive(destination, readonly=False) as dst:
        total = sum(src.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
        with progress("row") as bar:
            task = bar.add_task("Copying", total=total)
            report = copy_archive(src, dst, on_progress=lambda _, n: bar.advance(task, n))
    if json:
        print_json(report.as_json())
        return
    out.print(f"Copied {report.source} to {report.destination}:")
    for table, count in report.rows.items():
        out.print(f"  {table:<26} {count:>9}")
