"""Shared fixtures: a tiny random-weight Marian model built once per test session, and the
archive every test stores into, on each backend.

The model is trained on text written here (never downloaded), saved with `save_pretrained` and
loaded back through `resolve_model`, exactly as users load theirs.

The `db` fixture runs a test twice: on an SQLite file and on a real PostgreSQL server (a
database created for the session and dropped after it, a fresh schema per test). The server is
`$RUEN_TEST_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/postgres: any database the
user may create databases from). Without a server the PostgreSQL half is skipped, unless
`RUEN_TEST_POSTGRES=required` (CI sets it): then it fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from translate.testing import EchoEngine, build_marian

RU = """Силы режима отступают под давлением повстанцев.
Город Хама полностью освобожден после ожесточенных боев.
Мы продолжаем двигаться на юг, к Дамаску.
Представитель командования подтвердил освобождение города.
В четверг начались новые столкновения в провинции Хомс.
Гражданское сопротивление укрепляет революцию.
Министр обороны заявил о тактическом отступлении.
Подкрепления направлены для обеспечения безопасности района.
Революционные силы находятся в десяти километрах от города.
Коалиция взяла полный контроль над несколькими деревнями.""".splitlines()

EN = """Regime forces are retreating under rebel pressure.
The city of Hama has been completely liberated after fierce fighting.
We continue to move south, towards Damascus.
A command spokesman confirmed the liberation of the city.
New clashes began in Homs province on Thursday.
Civil resistance strengthens the revolution.
The defence minister announced a tactical retreat.
Reinforcements have been sent to secure the area.
The revolutionary forces are ten kilometres from the city.
The coalition took full control of several villages.""".splitlines()


# CI runs each property test on the same examples every time (a red CI must be reproducible);
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a random-weight Marian model with sentencepiece vocabularies (beam 2)."""
    out = tmp_path_factory.mktemp("models") / "tiny-marian"
    return build_marian(out, RU * 20, EN * 20, num_beams=2)


DEFAULT_TEST_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class PostgresServer:
    """The session's test database on a real PostgreSQL server."""

    admin_url: str  # the server's own database, where the test database is created
    url: str  # the test database
    database: str
    _schemas: Iterator[int]

    def connect(self, url: str | None = None):  # a psycopg connection
        import psycopg

        return psycopg.connect(url or self.url, autocommit=True)

    def new_archive(self) -> str:
        """The URL of a fresh, empty schema: an archive of its own for one test."""
        schema = f"t{next(self._schemas)}"
        with self.connect() as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def url_of(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{database}", query=""))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A database of its own on the test server, dropped at the end of the session."""
    admin = os.environ.get("RUEN_TEST_POSTGRES_URL", DEFAULT_TEST_SERVER)
    required = os.environ.get("RUEN_TEST_POSTGRES") == "required"
    try:
        import psycopg

        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except Exception as exc:  # psycopg missing or no server: say which
        message = (f"no PostgreSQL server for the tests at {admin} ({exc}); start one or set "
                   "RUEN_TEST_POSTGRES_URL (README, \"Sharing an archive\")")
        if required:
            pytest.fail(f"RUEN_TEST_POSTGRES=required: {message}")
        pytest.skip(message)
    database = f"ruen_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f"CREATE DATABASE {database}")
    parts = urlsplit(admin)
    server = PostgresServer(admin, urlunsplit(parts._replace(path=f"/{database}", query="")),
                            database, itertools.count(1))
    try:
        yield server
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
       ) -> Path | str:
    """A fresh archive on each backend: an SQLite file's path, then a PostgreSQL URL (a schema
    of its own). Also the default (RUEN_DB) so no test touches the user's archive."""
    target: Path | str = tmp_path / "archive.db"
    if request.param == "postgresql":
        target = request.getfixturevalue("postgres").new_archive()
    monkeypatch.setenv("RUEN_DB", str(target))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return target


@pytest.fixture
def sqlite_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite archive path, for tests of what only a file has (permissions, WAL,
    opening it with sqlite3); also RUEN_DB."""
    path = tmp_path / "archive.db"
    monkeypatch.setenv("RUEN_DB", str(path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return path


@pytest.fixture
def pg_db(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh PostgreSQL archive's URL only (concurrency, server errors); also RUEN_DB."""
    url = postgres.new_archive()
    monkeypatch.setenv("RUEN_DB", url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return url


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def user_glossary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUEN_GLOSSARY for every test (not created): no test reads or writes the user's own
    glossary of `ruen glossary add`."""
    path = tmp_path / "user-glossary.tsv"
    monkeypatch.setenv("RUEN_GLOSSARY", str(path))
    return path


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Session-wide too: module- and session-scoped fixtures that load an engine run before any
    # function-scoped monkeypatch, and must not convert models into the user's cache either.
    cache = tmp_path_factory.mktemp("ruen-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUEN_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session", autouse=True)
def _ray_temp_dir() -> Iterator[Path]:
    """RUEN_RAY_TMPDIR for the session: a `ruen translate --ray local` run by a test keeps its
    Ray session files here, not in /tmp/ray beside other users' Ray instances (short: Ray's
    socket paths must fit in 107 bytes, pytest's temporary folders can be longer)."""
    temp = Path(tempfile.mkdtemp(prefix="ruen-ray-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUEN_RAY_TMPDIR", str(temp))
        yield temp
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(autouse=True)
def ruen_cache(_session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUEN_CACHE for every test: no test touches the user's cache. Shared by the session, so
    the tiny model is converted for CTranslate2 once; a test that needs an empty cache sets its
    own."""
    monkeypatch.setenv("RUEN_CACHE", str(_session_cache))
    return _session_cache


@pytest.fixture
def echo_engine() -> EchoEngine:
    return EchoEngine()


# Installed (through PYTHONPATH) into `ruen` subprocesses that must be caught mid-job: every
# batch waits first, so a test can interrupt, kill or race a real process at a known stage.
_SLOW_BATCHES = '''
import os
import time

import translate.engine

_load_engine = translate.engine.load_engine


def _slow_engine(*args, **kwargs):
    engine = _load_engine(*args, **kwargs)
    translate_batches = engine.translate_batches

    def slow(batches, settings):
        def each_after_a_pause():
            for batch in batches:
                time.sleep(float(os.environ["RUEN_TEST_BATCH_DELAY"]))
                yield batch

        return translate_batches(each_after_a_pause(), settings)

    engine.translate_batches = slow
    return engine


translate.engine.load_engine = _slow_engine  # before translate.cli imports it: any backend
'''


@pytest.fixture
def ruen_process(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start the real `ruen` console script as a subprocess: `ruen_process(*args, delay=0.2)`
    (seconds before each batch). Stdout and stderr are pipes; processes still running at the
    end of the test are killed."""
    started: list[subprocess.Popen[str]] = []
    site = tmp_path_factory.mktemp("slow-site")
    (site / "sitecustomize.py").write_text(_SLOW_BATCHES, encoding="utf-8")
    ruen = shutil.which("ruen") or "ruen"

    def start(*args: str, delay: float = 0.0) -> subprocess.Popen[str]:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "RUEN_TEST_BATCH_DELAY": str(delay)}
        env.pop("RUEN_DB", None)  # every test names its archive with --db
        if delay:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site),
                                                              env.get("PYTHONPATH")]))
        process = subprocess.Popen([ruen, *args], env=env, text=True, encoding="utf-8",
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()
