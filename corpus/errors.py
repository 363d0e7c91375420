"""User-facing errors. The CLI prints their message and exits 2; anything else is a bug."""


class RuenError(Exception):
    """An error a user can act on; the message says what went wrong and what to do."""


class InputError(RuenError):
    """A source file cannot be read as Russian text (encoding, binary, empty...)."""


class ArchiveError(RuenError):
    """The archive file is not usable (not a ruen archive, newer schema, read-only, full)."""


class ArchiveOutdated(ArchiveError):
    """The archive has an older schema; opening it writable once upgrades it."""


class EditConflict(ArchiveError):
    """A post-edit made on a translation that is no longer the current one: nothing stored."""

    def __init__(self, doc: int, index: int, *, theirs: str, yours: str, version: int) -> None:
        super().__init__(f"{doc}:{index} was changed since you opened it; nothing stored. "
                         f"It now reads: {theirs!r}")
        self.doc, self.index = doc, index
        self.theirs, self.yours, self.version = theirs, yours, version


class QueryError(RuenError):
    """A search query cannot be understood."""


class FormatError(RuenError):
    """A TMX/TSV/JSONL/glossary file is malformed."""
