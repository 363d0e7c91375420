"""Archives for a server answering many requests at once (the web app): `ArchivePool(target)`,
then `with pool.archive() as archive:` per request.

On PostgreSQL the connections come from psycopg's pool: opened once, the schema checked (and
an older one upgraded) once, each request borrowing a connection and giving it back, so that a
request costs no connection set-up. On SQLite each request opens the file (a connection costs
about a millisecond there, and SQLite's own locking orders the writers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpus.db import CONNECT_TIMEOUT_S, PgConnection, display_name, is_url, row_factory
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
        open_archive(self.target, readonly=readonly).close()  # errors now, migrations once
        if not is_url(self.target):
            return
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
            kwargs={"autocommit": True, "row_factory": row_factory,
                    "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "ruen"},
            open=True)

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        """An archive for one request; its connection goes back to the pool afterwards."""
        if self._pool is None:
            with open_archive(self.target, readonly=self.readonly) as archive:
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

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> ArchivePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
