"""Running the QA checks over stored translations (the archive) or over a file of pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from corpus.store import Archive
from corpus.types import Flag, SentencePair, TermStatus
from eval.qa import DEFAULT_CHECKS, Check, glossary_missing, run_checks, severity_rank


class TermChecker(Protocol):
    """What QA needs of a glossary (`translate.glossary.Glossary.check`)."""

    def check(self, ru: str, en: str) -> tuple[TermStatus, ...]: ...


@dataclass(frozen=True)
class Finding:
    """One translation with what the checks found in it (possibly nothing)."""

    pair: SentencePair
    flags: tuple[Flag, ...]
    translation_id: int | None = None

    @property
    def severity(self) -> str:
        return min((f.severity for f in self.flags), key=severity_rank, default="")

    def as_json(self) -> dict[str, Any]:
        return {"doc": self.pair.doc, "index": self.pair.index, "ru": self.pair.ru,
                "en": self.pair.en, "kind": self.pair.kind, "score": self.pair.score,
                "severity": self.severity,
                "flags": [{"check": f.check, "severity": f.severity, "message": f.message}
                          for f in self.flags]}


SORT_ORDERS = ("severity", "score")
LOW_CONFIDENCE = "low-confidence"


def review_pairs(pairs: Iterable[SentencePair], *, checks: Sequence[Check] = DEFAULT_CHECKS,
                 glossary: TermChecker | None = None,
                 ids: Sequence[int | None] | None = None,
                 glossary_check: bool = True) -> list[Finding]:
    """Check each pair; glossary `missing` terms (unless `glossary_check` is false) come from
    `glossary` when given, else from the term statuses stored with the pair."""
    findings = []
    pairs = list(pairs)
    for number, pair in enumerate(pairs):
        terms = glossary.check(pair.ru, pair.en) if glossary is not None else pair.terms
        flags = (*run_checks(pair.ru, pair.en, checks),
                 *(glossary_missing(terms) if glossary_check else ()))
        findings.append(Finding(pair, tuple(flags), ids[number] if ids else None))
    return findings


def review_archive(archive: Archive, *, doc_ids: Sequence[int] | None = None,
                   checks: Sequence[Check] = DEFAULT_CHECKS,
                   glossary: TermChecker | None = None,
                   glossary_check: bool = True, references: bool = False) -> list[Finding]:
    """Check every current translation in the archive (or in these documents; one that is not
    there is an error), and with `references` every imported reference translation too."""
    rows = []
    for doc_id in doc_ids or [None]:
        if doc_id is not None:
            archive.document(doc_id)
        rows += archive.current_translations(doc_id)
        if references:
            rows += archive.current_translations(doc_id, kind="reference")
    if references:
        rows.sort(key=lambda row: (row[1].doc or 0, row[1].index, row[0]))
    return review_pairs([p for _, p in rows], checks=checks, glossary=glossary,
                        ids=[tid for tid, _ in rows], glossary_check=glossary_check)


def flag_confidence(findings: Iterable[Finding], min_score: float) -> list[Finding]:
    """Add a `low-confidence` warning to each machine translation whose stored score (the
    model's length-normalised log-probability) is below `min_score`."""
    return [replace(f, flags=(*f.flags, Flag(
                LOW_CONFIDENCE, "warning",
                f"the model's confidence {f.pair.score:.2f} is below {min_score:g}")))
            if f.pair.score is not None and f.pair.score < min_score else f
            for f in findings]


def store_findings(archive: Archive, findings: Iterable[Finding]) -> int:
    """Replace the stored flags of each reviewed translation; returns how many were updated."""
    flags = {f.translation_id: f.flags for f in findings if f.translation_id is not None}
    archive.replace_flags(flags)
    return len(flags)


def flagged(findings: Iterable[Finding], severity: str = "info",
            sort: str = "severity") -> list[Finding]:
    """Findings with a flag at `severity` or worse, worst first (`sort="score"`: the model's
    least confident first, translations without a score last), then in document order; only
    the flags at that level or worse are kept."""
    limit = severity_rank(severity)
    kept = []
    for finding in findings:
        flags = tuple(f for f in finding.flags if severity_rank(f.severity) <= limit)
        if flags:
            kept.append(Finding(finding.pair, flags, finding.translation_id))
    if sort == "score":
        return sorted(kept, key=lambda f: (f.pair.score is None, f.pair.score or 0.0,
                                           f.pair.doc or 0, f.pair.index))
    return sorted(kept, key=lambda f: (severity_rank(f.severity), f.pair.doc or 0, f.pair.index))
