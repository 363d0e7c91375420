"""Errors of the translate package (all `RuenError`s: the CLI prints them and exits 2)."""

from corpus.errors import RuenError


class ModelUnavailable(RuenError):
    """The model is neither a local directory nor in the cache, and the hub cannot be reached."""


class EngineError(RuenError):
    """A backend cannot be used as asked (not installed, no GPU, unsupported option)."""


class ClusterError(RuenError):
    """A Ray cluster cannot be reached or used (`ruen translate --ray`)."""
