"""A self-contained HTML report of an evaluation: score tables with signatures, plots rendered
to PNG with matplotlib and embedded as data URIs (one file to mail or commit), terminology,
the comparison of systems and the worst sentences."""

from __future__ import annotations

import base64
import io
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from eval.errors import EvalError, MissingExtra
from eval.evaluate import EvalResult, SentenceScore
from eval.review import Finding

LENGTH_BINS = ((1, 10), (11, 20), (21, 30), (31, 45), (46, 10_000))  # words per sentence
PLOT_DPI = 100
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
th, td { border: 1px solid #ddd; padding: .3em .55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .sig { font: 12px ui-monospace, monospace; color: #555; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } .plots img { max-width: 100%; }
.error { color: #b00020; font-weight: 600; } .warning { color: #9a6700; }
.sig-yes { font-weight: 600; }
.muted { color: #777; }
"""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingExtra(
            "the HTML report needs matplotlib; pip install 'ruen[report]'.") from None
    matplotlib.use("Agg")  # no display: render to PNG only
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PLOT_DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_distribution(sentences: Sequence[SentenceScore]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    bins = list(range(0, 101, 5))
    ax.hist([s.chrf for s in sentences], bins=bins, alpha=0.75, label="chrF++")
    ax.hist([s.bleu for s in sentences], bins=bins, alpha=0.5, label="BLEU")
    ax.set_xlabel("sentence score")
    ax.set_ylabel("sentences")
    ax.set_title("Distribution of sentence scores")
    ax.legend()
    return _png(fig)


def length_bins(sentences: Sequence[SentenceScore]) -> list[tuple[str, int, float]]:
    """(label, sentences, mean chrF++) per source length bin that has sentences."""
    rows = []
    for low, high in LENGTH_BINS:
        inside = [s.chrf for s in sentences if low <= s.length <= high]
        if inside:
            label = f"{low}–{high}" if high < LENGTH_BINS[-1][1] else f"{low}+"
            rows.append((label, len(inside), statistics.fmean(inside)))
    return rows


def plot_by_length(sentences: Sequence[SentenceScore]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.scatter([s.length for s in sentences], [s.chrf for s in sentences], s=14, alpha=0.6,
               label="sentences")
    bins = length_bins(sentences)
    centres = [(low + min(high, max(s.length for s in sentences))) / 2
               for (low, high) in LENGTH_BINS
               if any(low <= s.length <= high for s in sentences)]
    ax.plot(centres, [mean for _, _, mean in bins], "o-", color="C3", label="mean per bin")
    ax.set_xlabel("source length (words)")
    ax.set_ylabel("chrF++")
    ax.set_ylim(0, 102)  # points at 100 stay visible
    ax.set_title("Sentence chrF++ by length")
    ax.legend()
    return _png(fig)


def plot_systems(result: EvalResult) -> str:
    plt = _pyplot()
    comparison = result.comparison
    assert comparison is not None  # only called with a comparison
    metrics = comparison.metrics
    systems = comparison.systems
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        scores = [comparison.get(name, metric) for name in systems]
        ax.bar(range(len(systems)), [s.mean if s.mean is not None else s.score for s in scores],
               yerr=[s.ci or 0 for s in scores], capsize=4,
               color=["#999" if i == 0 else f"C{i}" for i in range(len(systems))])
        ax.set_xticks(range(len(systems)), systems, rotation=20, ha="right")
        ax.set_title(f"{metric} ({'lower' if metric == 'TER' else 'higher'} is better)")
    fig.suptitle("Systems: bootstrap mean with 95% CI")
    fig.tight_layout()
    return _png(fig)


def render_report(result: EvalResult, *, worst: int = 10, findings: Sequence[Finding] = (),
                  title: str = "ruen evaluation report", version: str = "") -> str:
    """The report as one HTML string."""
    if not result.sentences:
        raise EvalError("nothing to report: the hypothesis has no sentences.")
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f"<p class='muted'>{escape(result.name)}: {len(result.sentences)} sentences; "
             f"made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
             f"{' by ruen ' + escape(version) if version else ''}.</p>"]
    parts += _scores_table(result)
    distribution, by_length = plot_distribution(result.sentences), \
        plot_by_length(result.sentences)
    parts.append("<h2>Sentence scores</h2><div class='plots'>"
                 f"<img alt='distribution of sentence scores' src='{distribution}'>"
                 f"<img alt='chrF++ by sentence length' src='{by_length}'></div>")
    parts += _length_table(result.sentences)
    if result.comparison:
        parts += _comparison(result)
    if result.terms:
        parts += _terms(result)
    if findings:
        parts += _findings(findings)
    parts += _worst(result, worst)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, result: EvalResult, **options: Any) -> Path:
    path = Path(path)
    html = render_report(result, **options)
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"{path}: cannot write the report ({exc.strerror}).") from None
    return path


def _scores_table(result: EvalResult) -> list[str]:
    rows = "".join(f"<tr><td>{escape(s.name)}</td>"
                   f"<td class='num'>{s.value:.{max(2, s.decimals)}f}</td>"
                   f"<td class='sig'>{escape(s.signature)}</td>"
                   f"<td class='sig'>{escape(s.detail)}</td></tr>"
                   for s in (*result.scores, *result.extra))
    return ["<h2>Corpus scores</h2><table><tr><th>metric</th><th>score</th>"
            f"<th>sacrebleu signature</th><th>detail</th></tr>{rows}</table>"]


def _length_table(sentences: Sequence[SentenceScore]) -> list[str]:
    rows = "".join(f"<tr><td>{label}</td><td class='num'>{n}</td><td class='num'>{mean:.1f}</td>"
                   "</tr>" for label, n, mean in length_bins(sentences))
    return ["<table><tr><th>source words</th><th>sentences</th><th>mean chrF++</th></tr>"
            f"{rows}</table>"]


def _comparison(result: EvalResult) -> list[str]:
    comparison = result.comparison
    assert comparison is not None
    method = "paired bootstrap resampling" if comparison.method == "bs" else \
        "paired approximate randomisation"
    head = "".join(f"<th>{escape(m)} (μ ± 95% CI)</th>" for m in comparison.metrics)
    rows = []
    for name in comparison.systems:
        cells = []
        for metric in comparison.metrics:
            s = comparison.get(name, metric)
            ci = f" ({s.mean:.1f} ± {s.ci:.1f})" if s.mean is not None and s.ci is not None else ""
            p = "" if s.p_value is None else \
                f"<br><span class='{'sig-yes' if s.significant else 'muted'}'>p = {s.p_value:.4f}" \
                f"{' *' if s.significant else ''}</span>"
            cells.append(f"<td class='num'>{s.score:.1f}{ci}{p}</td>")
        rows.append(f"<tr><td>{escape(result.label(name))}</td>{''.join(cells)}</tr>")
    sigs = "".join(f"<li><code>{escape(m)}: {escape(sig)}</code></li>"
                   for m, sig in comparison.signatures.items())
    return [f"<h2>Systems compared</h2><p>{method}, {comparison.samples} samples; "
            f"* marks p &lt; 0.05 against {escape(result.label(comparison.baseline))}.</p>",
            f"<img alt='system comparison' src='{plot_systems(result)}'>",
            f"<table><tr><th>system</th>{head}</tr>{''.join(rows)}</table><ul>{sigs}</ul>"]


def _terms(result: EvalResult) -> list[str]:
    terms = result.terms
    assert terms is not None
    accuracy = "n/a" if terms.accuracy is None else f"{terms.accuracy:.1f}%"
    consistency = "n/a" if terms.consistency is None else f"{terms.consistency:.1f}%"
    rows = "".join(
        f"<tr><td>{escape(r.en)}</td><td>{escape(', '.join(r.sources))}</td>"
        f"<td class='num'>{r.hits}/{r.occurrences}</td>"
        f"<td>{escape(', '.join(f'{k} ×{v}' for k, v in r.renderings.most_common()))}</td></tr>"
        for r in terms.rows)
    return [f"<h2>Terminology</h2><p>Exact-match accuracy <b>{accuracy}</b> "
            f"({terms.hits} of {terms.occurrences} glossary terms); consistency "
            f"<b>{consistency}</b> (terms seen twice or more, always rendered alike).</p>",
            "<table><tr><th>English target</th><th>Russian forms</th><th>found</th>"
            f"<th>renderings</th></tr>{rows}</table>"]


def _findings(findings: Sequence[Finding]) -> list[str]:
    rows = "".join(
        f"<tr><td class='num'>{f.pair.index + 1}</td><td>"
        + "<br>".join(f"<span class='{x.severity}'>{escape(x.severity)}</span> "
                      f"<code>{escape(x.check)}</code> {escape(x.message)}" for x in f.flags)
        + f"</td><td>{escape(f.pair.ru)}</td><td>{escape(f.pair.en)}</td></tr>"
        for f in findings)
    return ["<h2>Reference-free QA flags</h2><table><tr><th>line</th><th>flags</th>"
            f"<th>source</th><th>hypothesis</th></tr>{rows}</table>"]


def _worst(result: EvalResult, n: int) -> list[str]:
    worst = result.worst(n)
    if not worst:
        return []
    has_src = any(s.src for s in worst)
    rows = "".join(
        f"<tr><td class='num'>{s.index + 1}</td><td class='num'>{s.chrf:.1f}</td>"
        f"<td class='num'>{s.bleu:.1f}</td>"
        + (f"<td>{escape(s.src)}</td>" if has_src else "")
        + f"<td>{escape(s.hyp)}</td><td>{escape(s.refs[0])}</td></tr>" for s in worst)
    plural = "s" if len(worst) != 1 else ""
    return [f"<h2>The {len(worst)} worst sentence{plural} (by chrF++)</h2><table><tr><th>line</th>"
            "<th>chrF++</th><th>BLEU</th>" + ("<th>source</th>" if has_src else "")
            + f"<th>hypothesis</th><th>reference</th></tr>{rows}</table>"]
