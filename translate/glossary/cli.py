"""`ruen glossary`: check, list, add and audit glossary terms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from corpus import console
from corpus.console import App, out, print_json
from corpus.options import (
    DbOption,
    GlossaryOption,
    JsonOption,
    NoGlossaryOption,
    writable_output,
)
from corpus.sources import read_texts
from corpus.store import open_archive
from translate.glossary.audit import audit
from translate.glossary.core import Glossary, layer, load_glossary
from translate.glossary.entries import Entry
from translate.glossary.load import add_entry, read_file, user_glossary_path
from translate.segment import segment

app = App(help="Glossaries: the same English name for every form of a Russian one.")

__all__ = ["GlossaryOption", "NoGlossaryOption", "app", "build_glossary"]


def build_glossary(paths: list[Path] | None, no_glossary: bool) -> Glossary | None:
    """The glossary the options ask for, or None when there is none at all."""
    if no_glossary and not paths:
        return None
    terms = load_glossary(paths or (), use_default=not no_glossary)
    for line in terms.summaries:  # what a termbase's concepts became, merged or skipped
        console.note(line)
    return terms


@app.command("check")
def check(
    path: Annotated[str, typer.Argument(help="A Russian text, web page, .docx or PDF file, "
                                             "a URL, or - for stdin.",
                                        metavar="FILE", show_default=False)],
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    json: JsonOption = False,
) -> None:
    """Show the glossary terms found in each sentence of a Russian text (no translation).

    Examples:

    ```
    ruen glossary check article.txt
    ruen glossary check article.txt --glossary mine.tsv --json
    ```
    """
    terms = build_glossary(glossary, no_glossary) or Glossary([])
    rows = []
    for text in read_texts(path):
        for s in segment(text):
            matches = terms.match(s.ru)
            rows.append({"index": len(rows), "ru": s.ru, "terms": [
                {"ru": m.surface, "start": m.start, "end": m.end, "en": m.entry.en,
                 "entry": m.entry.ru, "origin": m.entry.origin} for m in matches]})
    if json:
        print_json(rows)
        return
    for row in rows:
        if row["terms"]:
            found = "; ".join(f"{t['ru']} → {t['en']}" for t in row["terms"])
            print(f"{row['index']}\t{found}")
    total = sum(len(r["terms"]) for r in rows)
    console.note(f"{total} term(s) in {sum(bool(r['terms']) for r in rows)} of {len(rows)} "
          f"sentence(s); glossary {terms.version if len(terms) else 'empty'}.")


@app.command("list")
def list_entries(
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    forms: Annotated[bool, typer.Option("--forms", help="Also every Russian form matched.")
                     ] = False,
    source: Annotated[Path | None, typer.Option(
        "--source", show_default=False,
        help="Only the entries of this file (TSV, CSV or TBX), and on stderr what became of "
             "each termbase concept merged or skipped.")] = None,
    json: JsonOption = False,
) -> None:
    """List the glossary entries in effect (default, yours, and --glossary files).

    Columns: Russian, English target, note, admitted renderings (when there are any).

    Examples:

    ```
    ruen glossary list --glossary mine.tsv
    ruen glossary list --forms --json
    ruen glossary list --source iate.tbx
    ```
    """
    if source is not None:
        found = read_file(source)
        summary = found.summary
        terms = Glossary(layer([(source, found.entries)]), [str(source)])
        lines = (summary.line(), *summary.merged, *summary.skipped) if summary else ()
        for line in lines:
            console.note(line)
    else:
        terms = build_glossary(glossary, no_glossary) or Glossary([])
    rows = [{"ru": e.ru, "en": e.en, "admitted": list(e.admitted), "note": e.note,
             "variants": list(e.variants), "case_sensitive": e.case_sensitive,
             "origin": e.origin,
             **({"forms": terms.forms(e)} if forms else {})} for e in terms.entries]
    if json:
        print_json(rows)
        return
    for e in terms.entries:  # one line per entry: readable, and grep/cut-able
        print("\t".join([e.ru, e.en, e.note, ", ".join(e.admitted)]).rstrip())
        if forms:
            print("\t" + ", ".join(terms.forms(e)))
    console.note(f"glossary {terms.version}: {len(rows)} entries from "
         f"{', '.join(terms.sources) or 'nowhere'}")


@app.command("add")
def add(
    ru: Annotated[str, typer.Argument(help="The Russian term, in the nominative.")],
    en: Annotated[str, typer.Argument(help="Its English target.")],
    note: Annotated[str, typer.Option(help="A note for people.")] = "",
    variant: Annotated[list[str] | None, typer.Option(
        help="A wrong English rendering to rewrite to EN; repeatable.")] = None,
    admitted: Annotated[list[str] | None, typer.Option(
        help="Another correct English rendering, never rewritten; repeatable.")] = None,
    to: Annotated[Path | None, typer.Option(
        "--to", show_default=False, metavar="FILE", callback=writable_output,
        help="TSV file to add to [default: your glossary, $RUEN_GLOSSARY or the per-user "
             "data dir]")] = None,
    json: JsonOption = False,
) -> None:
    """Add a term (or change its target) in your glossary, used by every later translation.

    Examples:

    ```
    ruen glossary add "Абу Мухаммад аль-Джулани" "Abu Mohammed al-Julani"
    ruen glossary add Хама Hama --variant Khama --to mine.tsv
    ```
    """
    path = to or user_glossary_path()
    entry = Entry(ru=ru.strip(), en=en.strip(), note=note,
                  variants=tuple(v.strip() for v in variant or () if v.strip()),
                  admitted=tuple(a.strip() for a in admitted or () if a.strip()))
    outcome = add_entry(path, entry)
    forms = Glossary([entry]).forms(entry)
    if json:
        print_json({"outcome": outcome, "ru": entry.ru, "en": entry.en, "file": str(path),
                    "forms": len(forms)})
        return
    console.note(f"{outcome}: {entry.ru} → {entry.en} in {path} ({len(forms)} Russian forms match)")


@app.command("audit")
def audit_archive(
    db: DbOption = None,
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    all_entries: Annotated[bool, typer.Option("--all", help="Also entries never seen.")
                           ] = False,
    references: Annotated[bool, typer.Option(
        "--references", help="Audit the imported reference translations too.")] = False,
    json: JsonOption = False,
) -> None:
    """For each glossary entry: how many archived sentences contain it and every English
    rendering found for it, with counts, so inconsistent names stand out.

    Examples:

    ```
    ruen glossary audit --db archive.db
    ruen glossary audit --references     # the current translations and the references
    ruen glossary audit --all --json
    ```
    """
    terms = build_glossary(glossary, no_glossary) or Glossary([])
    with open_archive(db, readonly=True) as archive:
        pairs = list(archive.pairs())
        if references:
            pairs += archive.pairs(kind="reference")
        results = audit(terms, pairs)
    if not all_entries:
        results = [r for r in results if r.sentences]
    if json:
        print_json([r.as_json() for r in results])
        return
    table = Table("ru", "target", "sentences", "renderings found", title="glossary audit")
    for r in results:
        found = ", ".join(f"{en} ×{n}" for en, n in r.renderings.most_common())
        style = None if r.consistent else "yellow"
        table.add_row(r.entry.ru, r.entry.en, str(r.sentences), found, style=style)
    out.print(table)
    inconsistent = sum(not r.consistent for r in results)
    console.note(f"{inconsistent} of {len(results)} term(s) rendered other than their target.")
