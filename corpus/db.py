"""The connection layer: the archive's SQL runs on SQLite or on PostgreSQL through one
`execute(sql, params)` with `?` placeholders.

On SQLite `archive.db` is the plain `sqlite3.Connection` (rows are `sqlite3.Row`). On PostgreSQL
it is a `PgConnection` over psycopg 3 that takes the same SQL: `?` becomes `%s` (and a literal
`%` becomes `%%`) outside quoted strings, and rows are `Row`s, readable by index and by column
name like `sqlite3.Row`. The SQL the archive shares is written to mean the same on both
(`RETURNING id`, `IS NOT DISTINCT FROM`, `ON CONFLICT`); what really differs (schema, version
table, error messages) lives beside each backend.

psycopg is imported only when a PostgreSQL URL is opened: it is an optional extra
(`pip install "ruen[postgres]"`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from corpus.errors import ArchiveError

Backend = Literal["sqlite", "postgresql"]
URL_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 10


def is_url(target: object) -> bool:
    """Whether `target` (a `--db` value) names a PostgreSQL server rather than a file."""
    return str(target).startswith(URL_SCHEMES)


def display_name(url: str) -> str:
    """`postgresql://user@host:port/db`: how messages name a server, never with its password
    (nor the query: options and passwords may hide there too)."""
    parts = urlsplit(url)
    user = f"{unquote(parts.username)}@" if parts.username else ""
    try:
        port = parts.port or 5432
    except ValueError:  # a port that is not a number: psycopg says so, we only name it
        port = 5432
    host = parts.hostname or "localhost"
    database = parts.path.lstrip("/") or (unquote(parts.username) if parts.username else "")
    return f"postgresql://{user}{host}:{port}/{database}"


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


# ---------------------------------------------------------------- rows


class Row(tuple):  # a tuple that also answers to its column names
    """A result row readable by index and by column name, as `sqlite3.Row` is."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def row_factory(cursor: Any) -> Any:
    """psycopg row factory making `Row`s."""
    names = {c.name: i for i, c in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        return Row(values, names)

    return make


#: How every connection to an archive's server is opened (the CLI's, the web app's pool's):
#: in autocommit (the archive issues BEGIN and COMMIT itself), rows readable by name, and
#: never a prepared statement. psycopg prepares a statement after its fifth run, and
#: PostgreSQL may then keep one plan for it: a plan made while a table was nearly empty (a scan
#: of it) stayed as the table grew on a server where nothing ANALYZEd it (autovacuum off:
#: storing a document took 100 ms at 400,000 pairs), and a search's best plan depends on the
#: words asked for. Planning each statement cost nothing measurable in storing.
CONNECTION_OPTIONS: dict[str, Any] = {
    "autocommit": True, "row_factory": row_factory, "connect_timeout": CONNECT_TIMEOUT_S,
    "application_name": "ruen", "prepare_threshold": None}

# ---------------------------------------------------------------- SQL translation

_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\?|%""")


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg's `%s` and every `%` to `%%` (psycopg reads `%` anywhere in
    a statement with parameters, quoted or not); a `?` inside a quoted string or name stays."""

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


# ---------------------------------------------------------------- PostgreSQL


class PgCursor:
    """The result of one statement: `fetchone`, `fetchall`, iteration, `rowcount`."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


class PgConnection:
    """One psycopg connection in autocommit mode: a statement outside `BEGIN` is its own
    transaction, as on SQLite with `isolation_level=None`; the archive's `transaction()`
    issues BEGIN/COMMIT itself. Failures of the server or the network become one
    `ArchiveError` naming the server."""

    backend: Backend = "postgresql"

    def __init__(self, connection: Any, name: str) -> None:
        self.connection = connection
        self.name = name

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        cursor = self.connection.cursor()
        with self._errors():
            if params:
                cursor.execute(to_pyformat(sql), tuple(params))
            else:
                cursor.execute(sql)
        return PgCursor(cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        with self._errors(), self.connection.cursor() as cursor:
            cursor.executemany(to_pyformat(sql), rows)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
                  ) -> None:
        """Write many rows at once with COPY (`ruen archive copy`)."""
        names = ", ".join(f'"{c}"' for c in columns)
        with self._errors(), self.connection.cursor() as cursor, \
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @property
    def in_transaction(self) -> bool:
        import psycopg

        return self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        return bool(self.connection.closed or self.connection.broken)

    def close(self) -> None:
        self.connection.close()

    def _errors(self) -> _PgErrors:
        return _PgErrors(self)


class _PgErrors:
    """Turns what the server or the network did (connection lost, server shut down, disk
    full, no permission) into one ArchiveError line. Deadlocks and serialization failures
    pass through: the archive retries the document's transaction on them."""

    def __init__(self, db: PgConnection) -> None:
        self.db = db

    def __enter__(self) -> None:
        pass

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if exc is None:
            return
        import psycopg

        if isinstance(exc, psycopg.errors.TransactionRollback):
            return  # retried by the caller
        if isinstance(exc, psycopg.OperationalError) or (
                isinstance(exc, psycopg.Error) and self.db.broken):
            raise server_error(self.db.name, exc) from None
        refused = psycopg.errors.InsufficientPrivilege | psycopg.errors.ReadOnlySqlTransaction
        if isinstance(exc, refused):
            raise ArchiveError(f"{self.db.name}: the server refused to write "
                               f"({first_line(exc)}); nothing was stored.") from None


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__).removeprefix("FATAL:").strip()


def server_error(name: str, exc: BaseException) -> ArchiveError:
    """The server went away or failed in the middle of a run."""
    import psycopg

    if isinstance(exc, psycopg.errors.AdminShutdown) or "terminat" in str(exc) \
            or "closed" in str(exc) or "lost" in str(exc):
        return ArchiveError(f"{name}: the connection to the server was lost ({first_line(exc)}); "
                            "the current document was not stored, everything stored before is "
                            "intact. Run the same command again when the server is back.")
    return ArchiveError(f"{name}: the server failed ({first_line(exc)}); the current document "
                        "was not stored, everything stored before is intact.")


def connect_error(url: str, exc: BaseException) -> ArchiveError:
    """Why a server could not be reached or would not let us in, in one line naming it
    (never its password)."""
    name = display_name(url)
    message = str(exc)
    password = _password(url)
    if password:
        message = message.replace(password, "***")
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else "(your login name)"
    lowered = message.lower()
    if "connection refused" in lowered:
        return ArchiveError(f"{name}: no PostgreSQL server answers there (connection refused); "
                            "start the server, or check the host and port.")
    if "could not translate host name" in lowered or "name or service not known" in lowered \
            or "nodename nor servname" in lowered:
        return ArchiveError(f"{name}: unknown host {parts.hostname!r}; check the URL.")
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return ArchiveError(f"{name}: the server refused the password of user {user}; check it "
                            "(or ~/.pgpass).")
    if "does not exist" in lowered and "database" in lowered:
        database = parts.path.lstrip("/")
        return ArchiveError(f"{name}: the server has no database {database!r}; create it first "
                            f"(createdb -h {parts.hostname or 'localhost'} {database}).")
    if "does not exist" in lowered and "role" in lowered:
        return ArchiveError(f"{name}: the server knows no user {user}; check the URL.")
    if "timeout" in lowered or "timed out" in lowered:
        return ArchiveError(f"{name}: the server did not answer within {CONNECT_TIMEOUT_S} s.")
    return ArchiveError(f"{name}: cannot connect ({first_line(Exception(message))}).")


def connect_postgresql(url: str) -> PgConnection:
    """A connection to the archive at `url`; an ArchiveError when there is none to be had."""
    name = display_name(url)
    try:
        import psycopg
    except ImportError:
        raise ArchiveError(f"{name}: PostgreSQL support is not installed; "
                           "pip install \"ruen[postgres]\" (psycopg 3).") from None
    try:
        connection = psycopg.connect(url, **CONNECTION_OPTIONS)
    except psycopg.OperationalError as exc:
        raise connect_error(url, exc) from None
    except psycopg.ProgrammingError as exc:  # a URL libpq cannot parse
        raise ArchiveError(f"{name}: not a valid PostgreSQL URL ({first_line(exc)}).") from None
    return PgConnection(connection, name)


def integrity_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a broken constraint raises, on whichever backends are installed."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: PostgreSQL rolled the transaction back and asks
    for it to be run again."""
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.errors.TransactionRollback)
