"""Archives for a server answering many requests at once (the web app): `ArchivePool(target)`,
then `with pool.archive() as archive:` per request.

On PostgreSQL the connections come from psycopg's pool: opened once, the schema checked (and
an older one upgraded) once, each request borrowing a connection and giving it back, so that a
request costs no connection set-up. On SQLite a few open archives are lent out, each to one
request at a time (an SQLite connection must not run two statements from two threads at once),
so that a request keeps the connection's page cache; SQLite's own locking orders the writers.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpus.db import CONNECTION_OPTIONS, PgConnection, display_name, is_url
from corpus.errors import ArchiveError
from corpus.store import Archive, default_archive_path, open_archive

DEFAULT_SIZE = 8
#: Seconds a request waits for a free connection before it is told the server is too busy.
WAIT_S = 30.0


class ArchivePool:
    def __init__(self, target: str | Path | None = None, *, readonly: bool = False,
                 size: int = DEFAULT_SIZE) -> None:
        self.target = target or default_archive_path()
        self.readonly = readonly
        self._pool: Any = None
        if not is_url(self.target):
            # the first archive now: an unusable one is refused before any request
            self._size = size
            self._opened = [open_archive(self.target, readonly=readonly)]
            self._free: queue.LifoQueue[Archive] = queue.LifoQueue()
            self._free.put(self._opened[0])
            self._lock = threading.Lock()
            return
        open_archive(self.target, readonly=readonly).close()  # errors now, migrations once
        self.name = display_name(str(self.target))
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise ArchiveError(f"{self.name}: the connection pool is not installed; "
                               "pip install \"ruen[postgres]\".") from None

        def configure(connection: Any) -> None:
            if readonly:
                connection.execute("SET default_transaction_read_only = on")

        self._pool = ConnectionPool(
            str(self.target), min_size=1, max_size=size, timeout=WAIT_S, configure=configure,
            kwargs=CONNECTION_OPTIONS, open=True)

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        """An archive for one request; its connection goes back to the pool afterwards."""
        if self._pool is None:
            with self._lent() as archive:
                yield archive
            return
        from psycopg_pool import PoolTimeout

        try:
            borrowed = self._pool.connection()
            connection = borrowed.__enter__()
        except PoolTimeout:
            raise ArchiveError(f"{self.name}: no connection to the server free within "
                               f"{WAIT_S:.0f} s; the server is down or too busy.") from None
        try:
            yield Archive.on_connection(PgConnection(connection, self.name), self.target)
        except BaseException as exc:
            borrowed.__exit__(type(exc), exc, exc.__traceback__)
            raise
        borrowed.__exit__(None, None, None)

    @contextmanager
    def _lent(self) -> Iterator[Archive]:
        """One of the open SQLite archives, or a new one while there are fewer than `size`."""
        try:
            archive = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                opened = None
                if len(self._opened) < self._size:
                    opened = open_archive(self.target, readonly=self.readonly)
                    self._opened.append(opened)
            archive = opened or self._free.get()
        try:
            yield archive
        finally:
            if archive.db.in_transaction:  # a failed request leaves none open
                archive.db.execute("ROLLBACK")
            self._free.put(archive)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            return
        for archive in self._opened:
            archive.close()

    def __enter__(self) -> ArchivePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
