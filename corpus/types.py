"""The small value types passed between ingest, segmentation, translation and storage."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["mt", "post-edit", "reference"]
KINDS: tuple[Kind, ...] = ("mt", "post-edit", "reference")
TermState = Literal["ok", "enforced", "missing"]
Severity = Literal["error", "warning", "info"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """A source text as read from disk or stdin (already decoded, NFC, LF line endings)."""

    path: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    id: int | None = None

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


@dataclass(frozen=True)
class Segment:
    """One source sentence: `text[start:end]` of its document is exactly `ru`."""

    index: int
    paragraph: int
    start: int
    end: int
    ru: str
    doc_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class System:
    """What produced a translation: enough to reproduce it and to tell two systems apart."""

    model: str
    revision: str = ""
    backend: str = ""
    settings: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def settings_json(self) -> str:
        return json.dumps(self.settings, sort_keys=True, ensure_ascii=False)

    @property
    def signature(self) -> str:
        """A one-line, sacrebleu-style description, e.g. `model:x|rev:abc|backend:ct2|beam:4`."""
        parts = [f"model:{self.model}", f"rev:{self.revision or 'local'}",
                 f"backend:{self.backend}"]
        parts += [f"{k}:{v}" for k, v in sorted(self.settings.items())]
        return "|".join(parts)


@dataclass(frozen=True)
class TermStatus:
    """A glossary term found in a source sentence and what became of it in the translation."""

    ru: str
    en: str
    status: TermState
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Flag:
    """A reference-free QA finding about one translation."""

    check: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Hypothesis:
    """One decoded sentence."""

    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Alternative:
    """Another translation the model made of a sentence, kept beside the one chosen: the
    unconstrained output of a sentence whose glossary terms were enforced (`unconstrained`), or
    an enforced output rejected because it scored far below the unconstrained one
    (`constrained`). `score`: length-normalised log-probability."""

    en: str
    score: float
    kind: str


@dataclass(frozen=True)
class SentencePair:
    """A source sentence with its (current) translation, as printed and exported."""

    doc: int | None
    index: int
    paragraph: int
    ru: str
    en: str
    origin: str = "mt"  # mt | tm | copy (not Russian, kept as is) | post-edit | reference
    terms: tuple[TermStatus, ...] = ()
    flags: tuple[Flag, ...] = ()
    start: int = -1
    end: int = -1
    alternatives: tuple[Alternative, ...] = ()
    kind: Kind = "mt"  # of the stored translation (a reused post-edit stays a post-edit)
    source_id: int | None = None  # origin tm: the stored translation this one copies
    system: str = ""  # signature of the system that made it (mt); "" for human translations
    # The model's confidence: length-normalised log-probability of the machine translation
    # (0 is certain, lower is less sure); None for post-edits, references, memory and copies.
    score: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "index": self.index,
            "paragraph": self.paragraph,
            "ru": self.ru,
            "en": self.en,
            "origin": self.origin,
            "kind": self.kind,
            "source": self.source_id,
            "system": self.system,
            "start": self.start,
            "end": self.end,
            "score": None if self.score is None else round(self.score, 4),
            "terms": [{"ru": t.ru, "en": t.en, "status": t.status} for t in self.terms],
            "flags": [
                {"check": f.check, "severity": f.severity, "message": f.message}
                for f in self.flags
            ],
        }
