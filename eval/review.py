"""Running the QA checks over stored translations (the archive) or over a file of pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
                "en": self.pair.en, "kind": self.pair.kind, "severity": self.severity,
                "flags": [{"check": f.check, "severity": f.severity, "message": f.message}
                          for f in self.flags]}


def review_pairs(pairs: Iterable[SentencePair], *, checks: Sequence[Check] = DEFAULT_CHECKS,
                 glossary: TermChecker | None = None,
                 ids: Sequence[int | None] | None = None) -> list[Finding]:
    """Check each pair; glossary `missing` terms come from `glossary` when given, else from the
    term statuses stored with the pair."""
    findings = []
    pairs = list(pairs)
    for number, pair in enumerate(pairs):
        terms = glossary.check(pair.ru, pair.en) if glossary is not None else pair.terms
        flags = (*run_checks(pair.ru, pair.en, checks), *glossary_missing(terms))
        findings.append(Finding(pair, tuple(flags), ids[number] if ids else None))
    return findings


def review_archive(archive: Archive, *, doc_id: int | None = None,
                   checks: Sequence[Check] = DEFAULT_CHECKS,
                   glossary: TermChecker | None = None,
                   references: bool = False) -> list[Finding]:
    """Check every current translation in the archive (or in one document), and with
    `references` every imported reference translation too."""
    rows = list(archive.current_translations(doc_id))
    if references:
        rows += archive.current_translations(doc_id, kind="reference")
        rows.sort(key=lambda row: (row[1].doc or 0, row[1].index, row[0]))
    return review_pairs([p for _, p in rows], checks=checks, glossary=glossary,
                        ids=[tid for tid, _ in rows])


def store_findings(archive: Archive, findings: Iterable[Finding]) -> int:
    """Replace the stored flags of each reviewed translation; returns how many were updated."""
    flags = {f.translation_id: f.flags for f in findings if f.translation_id is not None}
    archive.replace_flags(flags)
    return len(flags)


def flagged(findings: Iterable[Finding], severity: str = "info") -> list[Finding]:
    """Findings with a flag at `severity` or worse, worst first, then in document order; only
    the flags at that level or worse are kept."""
    limit = severity_rank(severity)
    kept = []
    for finding in findings:
        flags = tuple(f for f in finding.flags if severity_rank(f.severity) <= limit)
        if flags:
            kept.append(Finding(finding.pair, flags, finding.translation_id))
    return sorted(kept, key=lambda f: (severity_rank(f.severity), f.pair.doc or 0, f.pair.index))
