"""A few open archives shared by the request threads, each used by one request at a time
(an SQLite connection must not run two statements from two threads at once)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import ArchiveError
from corpus.store import Archive, open_archive

#: Requests served at once; more wait for a free connection. SQLite readers do not block each
#: other in WAL mode, and a write waits for the busy timeout, not for the pool.
POOL_SIZE = 4


class ArchivePool:
    """`with pool.archive() as archive:` lends one open archive to the calling thread."""

    def __init__(self, path: str | Path, *, readonly: bool, size: int = POOL_SIZE) -> None:
        # a file that is not there is not created by serving it (a server URL is not a file)
        if "://" not in str(path) and not Path(path).exists():
            raise ArchiveError(f"{path}: no archive here; translate something into it first.")
        self.path = path
        self.readonly = readonly
        self._free: queue.LifoQueue[Archive] = queue.LifoQueue()
        self._opened: list[Archive] = []
        self._lock = threading.Lock()
        self._size = size
        # the first one now: an unusable archive is refused before the server listens
        self._free.put(self._open())

    def _open(self) -> Archive:
        archive = open_archive(self.path, readonly=self.readonly)
        self._opened.append(archive)
        return archive

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        try:
            archive = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = len(self._opened) < self._size
                archive = self._open() if grow else None
            if archive is None:
                archive = self._free.get()
        try:
            yield archive
        finally:
            if getattr(archive.db, "in_transaction", False):  # a failed request leaves none open
                archive.db.execute("ROLLBACK")
            self._free.put(archive)

    def close(self) -> None:
        for archive in self._opened:
            archive.close()
