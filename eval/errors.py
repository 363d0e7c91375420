"""Errors of evaluation a user can act on (the CLI prints them and exits 2)."""

from corpus.errors import RuenError


class EvalError(RuenError):
    """Hypotheses and references cannot be compared (missing file, line counts differ...)."""


class MissingExtra(RuenError):
    """An optional dependency (matplotlib, COMET) is not installed."""
