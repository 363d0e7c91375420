"""`ruen eval` (scores against references) and `ruen qa` (reference-free checks)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corpus.console import App, err, print_json, progress
from corpus.store import Archive, default_archive_path
from corpus.types import SentencePair
from eval.errors import EvalError
from eval.qa import CHECKS, DEFAULT_CHECKS, SEVERITIES
from eval.readers import carries_pairs, parse_system, read_pairs, read_sentences
from eval.review import Finding, flagged, review_archive, review_pairs, store_findings

if TYPE_CHECKING:  # sacrebleu is imported by `ruen eval` only: every `ruen` process loads
    # this module, and sacrebleu adds ~10 MB and 0.1 s to `ruen translate`'s start.
    from eval.comet import CometQuality, CometScorer
    from eval.evaluate import EvalResult
    from eval.significance import Method

app = App()
out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[Path | None, typer.Option(
    "--db", show_default=False, help="Archive: read documents from it and store the run.")]
GlossaryOption = Annotated[list[Path] | None, typer.Option(
    "--glossary", "-g",
    help="Glossary file(s) over the built-in one (repeatable); `default`: only that.")]


def _load_glossary(paths: list[Path] | None) -> Any:
    if not paths:
        return None
    from translate.glossary import load_glossary  # imports pymorphy3 dictionaries: only if asked

    # layered on the default glossary, as `ruen translate` does; `default` alone names it
    return load_glossary([p for p in paths if str(p) != "default"])


@app.command("eval")
def eval_command(
    hypothesis: Annotated[Path | None, typer.Argument(
        help="Hypothesis file: lines, .tsv (ru<TAB>en) or .jsonl; omit with --doc.",
        show_default=False)] = None,
    ref: Annotated[list[Path] | None, typer.Option(
        "--ref", "-r", help="Reference file(s), aligned with the hypothesis (repeatable).")] = None,
    src: Annotated[Path | None, typer.Option(
        "--src", "-s", help="Russian source, aligned (for term accuracy and the worst list).")
    ] = None,
    glossary: GlossaryOption = None,
    baseline: Annotated[Path | None, typer.Option(
        help="Compare the hypothesis with this baseline (paired test).")] = None,
    system: Annotated[list[str] | None, typer.Option(
        help="NAME=FILE: another system compared with the baseline (repeatable).")] = None,
    test: Annotated[str, typer.Option(help="bs: paired bootstrap | ar: approximate randomisation")
                    ] = "bs",
    samples: Annotated[int | None, typer.Option(
        help="Resamples (bs, default 1000) or trials (ar, default 10000).")] = None,
    worst: Annotated[int, typer.Option(help="Show the N sentences with the lowest chrF++.")] = 5,
    report: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    comet: Annotated[Path | None, typer.Option(
        help="COMET model: a directory, its .ckpt, or a hub name in the Hugging Face cache "
             "(Unbabel/wmt22-comet-da); needs --src.")
    ] = None,
    db: DbOption = None,
    doc: Annotated[int | None, typer.Option(
        help="Evaluate the current translations of this archive document.")] = None,
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score a translation against references: BLEU, chrF++ and TER with sacrebleu signatures,
    term accuracy, significance against other systems, and the worst sentences.

    Examples:

        ruen eval hyp.txt --ref ref.txt
        ruen eval hyp.txt --ref ref.txt --src src.ru.txt --glossary default --worst 10
        ruen eval new.txt --ref ref.txt --baseline old.txt --report report.html
        ruen eval --db archive.db --doc 3 --ref ref.txt --json
    """
    from eval.evaluate import evaluate

    hypotheses, sources, references, name = _inputs(hypothesis, ref, src, db, doc)
    scorer = _comet_scorer(comet, sources) if comet is not None else None  # fail before work
    others = [parse_system(spec) for spec in system or []]
    result = evaluate(
        hypotheses, references, sources=sources, glossary=_load_glossary(glossary), name=name,
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
        err.print(f"Report written to {report}")
    if db is not None or doc is not None:
        with Archive(db or default_archive_path()) as archive:
            run = archive.add_eval_run(result.signature, {
                **result.as_json(worst), "hypothesis": str(hypothesis or f"doc {doc}"),
                "references": [str(r) for r in ref or []] or ["archive"]})
        err.print(f"Stored as eval run {run} in {archive.path}")
    if json:
        print_json(result.as_json(worst) | {"qa": [f.as_json() for f in findings]})
        return
    _print_result(result, worst)


def _baseline_name(path: Path, hypothesis: str) -> str:
    return path.name if path.name != hypothesis else "baseline"


def _method(test: str) -> Method:
    from eval.significance import SAMPLES

    if test not in SAMPLES:
        raise typer.BadParameter("choose bs (paired bootstrap) or ar", param_hint="--test")
    return test  # type: ignore[return-value]  # checked just above


def _inputs(hypothesis: Path | None, refs: list[Path] | None, src: Path | None,
            db: Path | None, doc: int | None
            ) -> tuple[list[str], list[str] | None, list[list[str]], str]:
    if doc is None:
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
    with Archive(db or default_archive_path(), readonly=True) as archive:
        pairs = list(archive.pairs(doc))
        stored = archive.references(doc)
    if not pairs:
        raise EvalError(f"document {doc} has no translations; translate it first.")
    if refs:
        references = [read_sentences(r) for r in refs]
    else:
        missing = [p.index for p in pairs if p.index not in stored]
        if missing:
            raise EvalError(f"document {doc} has no reference for sentence(s) "
                            f"{', '.join(map(str, missing[:10]))}; import one with "
                            "`ruen import --kind reference` or pass --ref FILE.")
        references = [[stored[p.index] for p in pairs]]
    return [p.en for p in pairs], [p.ru for p in pairs], references, f"doc {doc}"


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
                  title=f"{method}, {comparison.samples} samples; * p < 0.05 vs baseline")
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
        table.add_row(f"{name} (baseline)" if name == comparison.baseline else name, *cells)
    out.print(table)
    for metric, signature in comparison.signatures.items():
        out.print(f"  [dim]{escape(metric)}: {escape(signature)}[/]")


@app.command("qa")
def qa_command(
    pairs_file: Annotated[Path | None, typer.Argument(
        help="Check this file instead of the archive: pairs (.tsv ru<TAB>en, .jsonl), or "
             "English lines with --src.", show_default=False)] = None,
    src: Annotated[Path | None, typer.Option(
        "--src", "-s", help="Russian source of a plain-text FILE, line by line.")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", envvar="RUEN_DB", show_default=False,
        help="Archive file [default: per-user data dir].")] = None,
    doc: Annotated[int | None, typer.Option(help="Only this document.")] = None,
    severity: Annotated[str, typer.Option(
        help="Show flags at this level or worse: error | warning | info.")] = "info",
    check: Annotated[list[str] | None, typer.Option(
        help=f"Run only these checks (repeatable): {', '.join(CHECKS)}.")] = None,
    glossary: GlossaryOption = None,
    save: Annotated[bool, typer.Option(
        "--save", help="Store the flags found with each translation in the archive.")] = False,
    comet: Annotated[Path | None, typer.Option(
        help="Referenceless COMET model (CometKiwi, e.g. Unbabel/wmt22-cometkiwi-da; a "
             "directory or a hub name in the cache): score each translation, lowest listed.")
    ] = None,
    references: Annotated[bool, typer.Option(
        "--references", help="With --db: check the imported reference translations too.")
    ] = False,
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check translations without a reference: Cyrillic left, numbers/dates/units changed,
    length outliers, repeated phrases, unbalanced quotes, empty output, missing glossary terms.
    Lists flagged sentences, errors first.

    Examples:

        ruen qa --db archive.db
        ruen qa --db archive.db --severity error --json
        ruen qa --db archive.db --references
        ruen qa pairs.tsv --check numbers --check units
        ruen qa hyp.en.txt --src src.ru.txt
    """
    if severity not in SEVERITIES:
        raise typer.BadParameter(f"choose one of {', '.join(SEVERITIES)}",
                                 param_hint="--severity")
    unknown = [c for c in check or [] if c not in CHECKS]
    if unknown:
        raise typer.BadParameter(f"unknown check {unknown[0]!r}; choose from "
                                 f"{', '.join(CHECKS)}", param_hint="--check")
    checks = [CHECKS[c] for c in check] if check else list(DEFAULT_CHECKS)
    terms = _load_glossary(glossary)
    scorer = _comet_qe_scorer(comet) if comet is not None else None  # fail before any work
    if pairs_file is not None:
        if save:
            raise EvalError("--save stores flags in the archive; it needs --db, not a file.")
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
                                checks=checks, glossary=terms)
    else:
        with Archive(db or default_archive_path(), readonly=not save) as archive:
            findings = review_archive(archive, doc_id=doc, checks=checks, glossary=terms,
                                      references=references)
            if save:
                stored = store_findings(archive, findings)
                err.print(f"Flags stored for {stored} translation(s) in {archive.path}")
    shown = flagged(findings, severity)
    quality = _comet_qe(scorer, findings) if scorer is not None and findings else None
    if json:
        print_json({"checked": len(findings), "flagged": len(shown),
                    "findings": [f.as_json() for f in shown]}
                   | ({"comet": quality.as_json()} if quality is not None else {}))
        return
    counts = {level: sum(1 for f in shown for x in f.flags if x.severity == level)
              for level in SEVERITIES}
    out.print(f"{len(findings)} translation(s) checked, {len(shown)} flagged: "
              + ", ".join(f"{n} {level}(s)" for level, n in counts.items() if n))
    current = ""
    for finding in shown:
        if finding.severity != current:
            current = finding.severity
            out.print(f"\n[bold]{current.upper()}[/]")
        where = f"doc {finding.pair.doc} #{finding.pair.index}" if finding.pair.doc is not None \
            else f"line {finding.pair.index + 1}"
        if finding.pair.doc is not None and finding.pair.kind != "mt":
            where += f" ({finding.pair.kind})"
        for flag in finding.flags:
            colour = {"error": "red", "warning": "yellow"}.get(flag.severity, "cyan")
            out.print(f"{where} [{colour}]{flag.severity}[/] {flag.check}: "
                      f"{escape(flag.message)}")
        out.print(f"  ru: {escape(finding.pair.ru)}\n  en: {escape(finding.pair.en)}")
    if quality is not None:
        _print_comet_qe(quality)


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
