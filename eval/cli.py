"""`ruen eval` (scores against references, stored runs) and `ruen qa` (reference-free
checks)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corpus.console import (
    EXIT_PROBLEMS_FOUND,
    App,
    default_command_group,
    note,
    print_json,
    progress,
)
from corpus.options import (
    DbOption,
    DocOption,
    GlossaryOption,
    JsonOption,
    NoGlossaryOption,
    choice,
    writable_output,
)
from corpus.store import EvalRun, open_archive
from corpus.types import SentencePair
from eval.errors import EvalError
from eval.qa import CHECK_NAMES, CHECKS, GLOSSARY_CHECK, SEVERITIES
from eval.readers import carries_pairs, parse_system, read_pairs, read_sentences
from eval.review import (
    SORT_ORDERS,
    Finding,
    flag_confidence,
    flagged,
    review_archive,
    review_pairs,
    store_findings,
)

if TYPE_CHECKING:  # sacrebleu is imported by `ruen eval` only: every `ruen` process loads
    # this module, and sacrebleu adds ~10 MB and 0.1 s to `ruen translate`'s start.
    from eval.comet import CometQuality, CometScorer
    from eval.evaluate import EvalResult
    from eval.significance import Method

app = App()
eval_app = App(cls=default_command_group("score"), help="""Score translations against
references (`ruen eval HYP --ref REF` is `ruen eval score HYP --ref REF`), and list the runs
stored in the archive.

Examples:

```
ruen eval hyp.txt --ref ref.txt
ruen eval runs --db archive.db
ruen eval show 1 --db archive.db
```
""")
app.add_typer(eval_app, name="eval")
out = Console(highlight=False, soft_wrap=True)


def _glossary(paths: list[Path] | None, no_glossary: bool) -> Any:
    """The glossary as `ruen translate` builds it: the default one, yours, then --glossary."""
    from translate.glossary.cli import build_glossary  # pymorphy3 dictionaries: only when used

    return build_glossary(paths, no_glossary)


@eval_app.command("score")
def eval_command(
    hypothesis: Annotated[Path | None, typer.Argument(
        help="Hypothesis file: lines, .tsv (Russian, tab, English) or .jsonl; omit with --doc.",
        show_default=False)] = None,
    ref: Annotated[list[Path] | None, typer.Option(
        "--ref", "-r", help="Reference file(s), aligned with the hypothesis (repeatable).")] = None,
    src: Annotated[Path | None, typer.Option(
        "--src", "-s", help="Russian source, aligned (for term accuracy and the worst list).")
    ] = None,
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    baseline: Annotated[Path | None, typer.Option(
        help="Compare the hypothesis with this baseline (paired test).")] = None,
    system: Annotated[list[str] | None, typer.Option(
        help="NAME=FILE: another system compared with the baseline (repeatable).")] = None,
    test: Annotated[str, typer.Option(
        help="Significance test: bs, paired bootstrap; ar, approximate randomisation.",
        **choice("bs", "ar"))] = "bs",
    samples: Annotated[int | None, typer.Option(
        min=1, help="Resamples (bs, default 1000) or trials (ar, default 10000).")] = None,
    worst: Annotated[int, typer.Option(
        min=0, help="Show the N sentences with the lowest chrF++ (never a perfect one).")] = 5,
    report: Annotated[Path | None, typer.Option(
        help="Write an HTML report here.", metavar="FILE", callback=writable_output)] = None,
    comet: Annotated[Path | None, typer.Option(
        help="COMET model: a directory, its .ckpt, or a hub name in the Hugging Face cache "
             "(Unbabel/wmt22-comet-da); needs --src.")
    ] = None,
    db: DbOption = None,
    doc: DocOption = None,
    json: JsonOption = False,
) -> None:
    """Score a translation against references: BLEU, chrF++ and TER with sacrebleu signatures,
    term accuracy (with the source; the glossary as in translate), significance against other
    systems, and the worst sentences. With an archive (--db, RUEN_DB or --doc) the run is
    stored there (`ruen eval runs`).

    Examples:

    ```
    ruen eval hyp.txt --ref ref.txt
    ruen eval hyp.txt -r ref.txt -s src.ru.txt -g mine.tsv --worst 10
    ruen eval new.txt --ref ref.txt --baseline old.txt --report report.html
    ruen eval new.txt --ref ref.txt --system old=old.txt
    ruen eval --db archive.db --doc 1 --json
    ```
    """
    from eval.evaluate import evaluate

    hypotheses, sources, references, name = _inputs(hypothesis, ref, src, db, doc)
    scorer = _comet_scorer(comet, sources) if comet is not None else None  # fail before work
    others = [parse_system(spec) for spec in system or []]
    # term accuracy needs the source: without it only an explicit --glossary is a mistake
    terms = _glossary(glossary, no_glossary) if sources is not None or glossary else None
    result = evaluate(
        hypotheses, references, sources=sources, glossary=terms, name=name,
        baseline=(_baseline_name(baseline, name), read_sentences(baseline)) if baseline else None,
        systems=[(n, read_sentences(f)) for n, f in others], method=_method(test),
        samples=samples)
    if scorer is not None:
        result = _with_comet(result, scorer, sources, references)
    findings: list[Finding] = []
    if sources is not None:
        pairs = [SentencePair(None, i, 0, ru, en) for i, (ru, en) in
                 enumerate(zip(sources, hypotheses, strict=True))]
        findings = flagged(review_pairs(pairs))
    if report is not None:
        from eval.report import write_report
        from translate import __version__

        write_report(report, result, worst=worst, findings=findings, version=__version__)
        note(f"Report written to {report}")
    if db is not None or doc:
        with open_archive(db, readonly=False) as archive:
            run = archive.add_eval_run(result.signature, {
                **result.as_json(worst), "hypothesis": str(hypothesis or name),
                "references": [str(r) for r in ref or []] or ["archive"]})
        note(f"Stored as eval run {run} in {archive.path}")
    if json:
        print_json(result.as_json(worst) | {"qa": [f.as_json() for f in findings]})
        return
    _print_result(result, worst)


@eval_app.command("runs")
def eval_runs(db: DbOption = None, json: JsonOption = False) -> None:
    """List the evaluation runs stored in the archive: id, date, what was scored, the scores
    and the metrics' signature.

    Examples:

    ```
    ruen eval runs --db archive.db
    ruen eval runs --json
    ```
    """
    with open_archive(db, readonly=True) as archive:
        runs = archive.eval_runs()
    if json:
        print_json([_run_json(r) for r in runs])
        return
    if not runs:
        note("No eval runs stored; `ruen eval HYP --ref REF --db ARCHIVE` stores one.")
        return
    table = Table("run", "date", "hypothesis", "sentences", "scores", "signature")
    for run in runs:
        table.add_row(str(run.id), run.created, escape(str(run.scores.get("hypothesis", ""))),
                      str(run.scores.get("sentences", "")), escape(_score_line(run)),
                      escape(run.signature))
    out.print(table)


@eval_app.command("show")
def eval_show(run: Annotated[int, typer.Argument(min=1, help="Run id (`ruen eval runs`).")],
              db: DbOption = None, json: JsonOption = False) -> None:
    """Print one stored evaluation run: its scores with signatures, term accuracy, comparison
    and worst sentences as stored.

    Examples:

    ```
    ruen eval show 1 --db archive.db
    ruen eval show 1 --json
    ```
    """
    with open_archive(db, readonly=True) as archive:
        stored = archive.eval_run(run)
    if json:
        print_json(_run_json(stored) | {"run": stored.scores})
        return
    data = stored.scores
    out.print(f"[bold]eval run {stored.id}[/], {stored.created}: "
              f"{escape(str(data.get('hypothesis', '')))} against "
              f"{escape(', '.join(map(str, data.get('references', []))))}, "
              f"{data.get('sentences', '?')} sentences")
    for score in data.get("scores", []):
        out.print(f"{escape(score['name'])} = {score['score']:.1f} {escape(score['detail'])}"
                  f"\n  [dim]{escape(score['signature'])}[/]")
    terms = data.get("terms")
    if terms and terms.get("accuracy") is not None:
        out.print(f"Terminology: exact-match accuracy {terms['accuracy']:.1f}%")
    for s in data.get("worst", []):
        out.print(f"line {s['index'] + 1}: chrF++ {s['chrf']:.1f}, BLEU {s['bleu']:.1f}\n"
                  f"  hyp: {escape(s['hyp'])}\n  ref: {escape(s['ref'])}")


def _run_json(run: EvalRun) -> dict[str, Any]:
    data = run.scores
    return {"id": run.id, "created": run.created, "signature": run.signature,
            "hypothesis": data.get("hypothesis"), "references": data.get("references"),
            "sentences": data.get("sentences"),
            "scores": {s["name"]: s["score"] for s in data.get("scores", [])}}


def _score_line(run: EvalRun) -> str:
    return ", ".join(f"{s['name']} {s['score']:.1f}" for s in run.scores.get("scores", []))


def _baseline_name(path: Path, hypothesis: str) -> str:
    return path.name if path.name != hypothesis else "baseline"


def _method(test: str) -> Method:
    return test  # type: ignore[return-value]  # `choice` has checked it


def _inputs(hypothesis: Path | None, refs: list[Path] | None, src: Path | None,
            db: str | None, docs: list[int] | None
            ) -> tuple[list[str], list[str] | None, list[list[str]], str]:
    if not docs:
        if hypothesis is None:
            raise EvalError("give a hypothesis file, or --doc N to evaluate an archive document.")
        if not refs:
            raise EvalError("give a reference with --ref FILE.")
        sources = read_sentences(src, "ru") if src else None
        if sources is None and carries_pairs(hypothesis):
            sources = read_sentences(hypothesis, "ru") or None  # ru<TAB>en carries the source
            if sources == read_sentences(hypothesis, "en"):
                sources = None  # a one-column file
        return (read_sentences(hypothesis), sources, [read_sentences(r) for r in refs],
                hypothesis.name)
    pairs: list[SentencePair] = []
    references: list[list[str]] = [[]]
    with open_archive(db, readonly=True) as archive:
        for doc in docs:
            archive.document(doc)  # a document that is not there is named as such
            translated = list(archive.pairs(doc))
            if not translated:
                raise EvalError(f"document {doc} has no translations; translate it first.")
            pairs += translated
            if not refs:
                stored = archive.references(doc)
                missing = [p.index for p in translated if p.index not in stored]
                if missing:
                    raise EvalError(f"document {doc} has no reference for sentence(s) "
                                    f"{', '.join(map(str, missing[:10]))}; import one with "
                                    "`ruen import --kind reference` or pass --ref FILE.")
                references[0] += [stored[p.index] for p in translated]
    if refs:
        references = [read_sentences(r) for r in refs]
    name = f"doc{'s' if len(docs) > 1 else ''} {', '.join(map(str, docs))}"
    return [p.en for p in pairs], [p.ru for p in pairs], references, name


def _comet_scorer(model: Path, sources: list[str] | None) -> CometScorer:
    from eval.comet import CometScorer

    if sources is None:
        raise EvalError("COMET needs the Russian source: add --src FILE.")
    return CometScorer.load(str(model))


def _with_comet(result: EvalResult, scorer: CometScorer, sources: list[str] | None,
                references: list[list[str]]) -> EvalResult:
    from dataclasses import replace

    from eval.comet import comet_score

    assert sources is not None  # checked by _comet_scorer
    with progress() as bar:
        task = bar.add_task("COMET", total=len(sources))
        score, _ = comet_score(sources, [s.hyp for s in result.sentences], references[0],
                               model=scorer, on_progress=lambda n: bar.advance(task, n))
    return replace(result, extra=(*result.extra, score))


def _print_result(result: EvalResult, worst: int) -> None:
    out.print(f"[bold]{escape(result.name)}[/]: {len(result.sentences)} sentences")
    for score in (*result.scores, *result.extra):
        out.print(f"{escape(score.format())}\n  [dim]{escape(score.signature)}[/]")
    terms = result.terms
    if terms is not None:
        if terms.accuracy is None:
            out.print("Terminology: no glossary term in the source.")
        else:
            consistency = "n/a" if terms.consistency is None else f"{terms.consistency:.1f}%"
            out.print(f"Terminology: exact-match accuracy {terms.accuracy:.1f}% "
                      f"({terms.hits}/{terms.occurrences} terms), consistency {consistency}")
            for row in terms.inconsistent:
                renderings = ", ".join(f"{k} ×{v}" for k, v in row.renderings.most_common())
                out.print(f"  {escape(row.en)}: {escape(renderings)}")
    if result.comparison is not None:
        _print_comparison(result)
    chosen = result.worst(worst)
    if chosen:
        plural = "s" if len(chosen) != 1 else ""
        out.print(f"\n[bold]The {len(chosen)} worst sentence{plural} by chrF++[/]")
        for s in chosen:
            out.print(f"line {s.index + 1}: chrF++ {s.chrf:.1f}, BLEU {s.bleu:.1f}")
            if s.src:
                out.print(f"  src: {escape(s.src)}")
            out.print(f"  hyp: {escape(s.hyp)}\n  ref: {escape(s.refs[0])}")


def _print_comparison(result: EvalResult) -> None:
    comparison = result.comparison
    assert comparison is not None
    method = "paired bootstrap" if comparison.method == "bs" else "approximate randomisation"
    table = Table("system", *(f"{m} (μ ± 95% CI)" for m in comparison.metrics),
                  title=escape(f"{method}, {comparison.samples} samples; * p < 0.05 vs "
                               f"{result.label(comparison.baseline)}"))
    for name in comparison.systems:
        cells = []
        for metric in comparison.metrics:
            s = comparison.get(name, metric)
            text = f"{s.score:.1f}"
            if s.mean is not None and s.ci is not None:
                text += f" ({s.mean:.1f} ± {s.ci:.1f})"
            if s.p_value is not None:
                text += f"\np = {s.p_value:.4f}{' *' if s.significant else ''}"
            cells.append(text)
        table.add_row(escape(result.label(name)), *cells)
    out.print(table)
    for metric, signature in comparison.signatures.items():
        out.print(f"  [dim]{escape(metric)}: {escape(signature)}[/]")


@app.command("qa")
def qa_command(
    pairs_file: Annotated[Path | None, typer.Argument(
        help="Check this file instead of the archive: pairs (.tsv: Russian, tab, English; "
             ".jsonl), or English lines with --src.", show_default=False)] = None,
    src: Annotated[Path | None, typer.Option(
        "--src", "-s", help="Russian source of a plain-text FILE, line by line.")] = None,
    db: DbOption = None,
    doc: DocOption = None,
    severity: Annotated[str, typer.Option(
        help="Show flags at this level or worse.", **choice(*SEVERITIES))] = "info",
    check: Annotated[list[str] | None, typer.Option(
        help=f"Run only these checks (repeatable): {', '.join(CHECK_NAMES)} [default: all].",
        show_default=False, **choice(*CHECK_NAMES, metavar="CHECK"))] = None,
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", metavar="LOGPROB", show_default=False, max=0,
        help="Flag machine translations the model was less sure of than this (its "
             "length-normalised log-probability, e.g. -1.5; archive only).")] = None,
    sort: Annotated[str, typer.Option(
        help="severity: errors first; score: the model's least confident first.",
        **choice(*SORT_ORDERS))] = "severity",
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", show_default=False,
        help="Exit 1 when a flag at this level or worse is found (for scripts).",
        **choice("error", "warning"))] = None,
    save: Annotated[bool, typer.Option(
        "--save", help="Store the flags found with each translation in the archive.")] = False,
    comet: Annotated[Path | None, typer.Option(
        help="Referenceless COMET model (CometKiwi, e.g. Unbabel/wmt22-cometkiwi-da; a "
             "directory or a hub name in the cache): score each translation, lowest listed.")
    ] = None,
    references: Annotated[bool, typer.Option(
        "--references", help="With --db: check the imported reference translations too.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Check translations without a reference: Cyrillic left, numbers/dates/units changed,
    length outliers, repeated phrases, unbalanced quotes, empty output, glossary terms missing
    (the glossary as in translate), and in the archive the model's confidence. Lists flagged
    sentences, errors first (or least confident first).

    Examples:

    ```
    ruen qa --db archive.db
    ruen qa --db archive.db --severity error --json
    ruen qa --db archive.db --references
    ruen qa --db archive.db --sort score --min-score -1.5
    ruen qa --db archive.db --fail-on error
    ruen qa pairs.tsv --check numbers --check units
    ruen qa pairs.tsv --check glossary-missing --glossary mine.tsv
    ruen qa hyp.en.txt --src src.ru.txt
    ```
    """
    chosen = check or list(CHECK_NAMES)
    checks = [CHECKS[c] for c in chosen if c in CHECKS]
    terms = _glossary(glossary, no_glossary) if GLOSSARY_CHECK in chosen else None
    scorer = _comet_qe_scorer(comet) if comet is not None else None  # fail before any work
    if pairs_file is not None:
        if save or min_score is not None:
            option = "--save" if save else "--min-score"
            raise EvalError(f"{option} works on the archive (--db), not on a file.")
        if src is not None:
            english, sources = read_sentences(pairs_file, "en"), read_sentences(src, "ru")
        elif carries_pairs(pairs_file):
            pairs = read_pairs(pairs_file)
            sources, english = [ru for ru, _ in pairs], [en for _, en in pairs]
        else:
            raise EvalError(f"{pairs_file}: plain lines have no Russian; pass --src FILE, or a "
                            ".tsv/.jsonl file of pairs.")
        if len(sources) != len(english):
            raise EvalError(f"{src or pairs_file}: {len(sources)} Russian sentences for "
                            f"{len(english)} English ones; they must be aligned line by line.")
        findings = review_pairs([SentencePair(None, i, 0, ru, en) for i, (ru, en)
                                 in enumerate(zip(sources, english, strict=True))],
                                checks=checks, glossary=terms,
                                glossary_check=GLOSSARY_CHECK in chosen)
    else:
        with open_archive(db, readonly=not save) as archive:
            findings = review_archive(archive, doc_ids=doc, checks=checks, glossary=terms,
                                      glossary_check=GLOSSARY_CHECK in chosen,
                                      references=references)
            if min_score is not None:
                findings = flag_confidence(findings, min_score)
            if save:
                stored = store_findings(archive, findings)
                note(f"Flags stored for {stored} translation(s) in {archive.path}")
    shown = flagged(findings, severity, sort=sort)
    failed = fail_on is not None and bool(flagged(shown, fail_on))
    quality = _comet_qe(scorer, findings) if scorer is not None and findings else None
    counts = {level: sum(1 for f in shown for x in f.flags if x.severity == level)
              for level in SEVERITIES}
    note(f"{len(findings)} translation(s) checked, {len(shown)} flagged"
         + "".join(f", {n} {level}(s)" for level, n in counts.items() if n))
    if json:
        print_json({"checked": len(findings), "flagged": len(shown),
                    "findings": [f.as_json() for f in shown]}
                   | ({"comet": quality.as_json()} if quality is not None else {}))
    else:
        _print_findings(shown, by_severity=sort == "severity")
        if quality is not None:
            _print_comet_qe(quality)
    if failed:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)


def _print_findings(shown: list[Finding], *, by_severity: bool) -> None:
    current = ""
    for number, finding in enumerate(shown):
        if finding.severity != current and by_severity:
            current = finding.severity
            out.print(f"{'' if number == 0 else chr(10)}[bold]{current.upper()}[/]")
        where = f"doc {finding.pair.doc} #{finding.pair.index}" if finding.pair.doc is not None \
            else f"line {finding.pair.index + 1}"
        if finding.pair.doc is not None and finding.pair.kind != "mt":
            where += f" ({finding.pair.kind})"
        for flag in finding.flags:
            colour = {"error": "red", "warning": "yellow"}.get(flag.severity, "cyan")
            out.print(f"{where} [{colour}]{flag.severity}[/] {flag.check}: "
                      f"{escape(flag.message)}")
        confidence = "" if finding.pair.score is None else f"  (score {finding.pair.score:.2f})"
        out.print(f"  ru: {escape(finding.pair.ru)}\n  en: {escape(finding.pair.en)}"
                  f"{confidence}")


def _comet_qe_scorer(model: Path) -> CometScorer:
    from eval.comet import CometScorer, referenceless

    return referenceless(CometScorer.load(str(model)))


def _comet_qe(scorer: CometScorer, findings: list[Finding]) -> CometQuality:
    from eval.comet import score_pairs

    with progress() as bar:
        task = bar.add_task("COMET", total=len(findings))
        return score_pairs([f.pair for f in findings], model=scorer,
                           on_progress=lambda n: bar.advance(task, n))


def _print_comet_qe(quality: CometQuality, lowest: int = 5) -> None:
    out.print(f"\n{escape(quality.score.format())}\n  [dim]{escape(quality.score.signature)}[/]")
    chosen = quality.lowest(lowest)
    if chosen:
        out.print(f"\n[bold]The {len(chosen)} lowest by {quality.score.name}[/]")
    for pair, value in chosen:
        where = f"doc {pair.doc} #{pair.index}" if pair.doc is not None \
            else f"line {pair.index + 1}"
        out.print(f"{where} {quality.score.name} {value:.4f}\n  ru: {escape(pair.ru)}\n"
                  f"  en: {escape(pair.en)}")
