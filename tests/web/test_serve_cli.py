"""`ruen serve` as a command: it refuses what would be unsafe or cannot work (another machine's
address without a token, an archive that is not there, a busy port) with one `error:` line, and
the real server says where it listens, wants its token, and stops cleanly on SIGTERM/Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from translate.cli import app

START_SECONDS = 90


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_another_machines_address_needs_a_token(runner, news, host) -> None:
    result = runner.invoke(app, ["serve", "--db", str(news.path), "--host", host],
                           env={"RUEN_TOKEN": None})
    line = _one_error_line(result)
    assert f"--host {host}" in line and "--token" in line and "RUEN_TOKEN" in line
    suggested = re.search(r"--token (\S+)\)", line).group(1)  # a generated one to use
    assert len(suggested) >= 24


def test_an_empty_token_is_refused(runner, news) -> None:
    line = _one_error_line(runner.invoke(app, ["serve", "--db", str(news.path), "--host",
                                               "0.0.0.0", "--token", " "]))
    assert "--token is empty" in line


@pytest.mark.parametrize(("value", "says"), [
    ("anna", "NAME:TOKEN"), ("anna:", "NAME:TOKEN"), (":k3y-of-anna-07", "NAME:TOKEN"),
    ("anna:short", "shorter than 8"), ("ivan:s3cret-for-the-desk", "already someone else")])
def test_a_bad_reviewer_is_refused(runner, news, value, says) -> None:
    line = _one_error_line(runner.invoke(app, [
        "serve", "--db", str(news.path), "--token", "s3cret-for-the-desk", "--reviewer",
        value, "--port", "0"]))
    assert says in line


def test_reviewers_tokens_guard_the_real_server(serve) -> None:
    # (their tokens are enough for --host 0.0.0.0 too: the help's example, run by the CLI
    # contract test)
    served = serve("--host", "127.0.0.1", "--reviewer", "anna:k3y-of-anna-07",
                   "--reviewer", "ivan:k3y-of-ivan-08")
    assert any("Reviewers: anna, ivan" in line for line in served.said)
    assert served.get("/api/documents")[0] == 401
    status, body = served.get("/api/session", {"Authorization": "Bearer k3y-of-ivan-08"})
    assert status == 200 and json.loads(body)["editor"] == "ivan"


def test_an_archive_that_is_not_there_is_refused(runner, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    line = _one_error_line(runner.invoke(app, ["serve", "--db", str(missing), "--port", "0"]))
    assert str(missing) in line and "no archive" in line
    assert not missing.exists()


def test_a_busy_port_is_one_error_line(runner, news) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_error_line(runner.invoke(app, ["serve", "--db", str(news.path), "--port",
                                                   str(port)]))
    assert f"127.0.0.1:{port}" in line and "--port" in line


# ---------------------------------------------------------------- the real server


class Served:
    def __init__(self, process: subprocess.Popen[str], said: list[str], url: str) -> None:
        self.process, self.said, self.url = process, said, url

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@pytest.fixture
def serve(news) -> Iterator:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        environment = {k: v for k, v in os.environ.items() if k != "RUEN_TOKEN"}
        environment.update(env or {})
        process = subprocess.Popen(
            [shutil.which("ruen") or "ruen", "serve", "--db", str(news.path), "--port", "0",
             *args], env=environment, text=True, encoding="utf-8", stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        started.append(process)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in process.stderr], daemon=True
                         ).start()
        said = [lines.get(timeout=START_SECONDS)]
        while "Serving " not in said[-1]:
            assert "error" not in said[-1], said
            said.append(lines.get(timeout=START_SECONDS))
        url = re.search(r" at (http://127\.0\.0\.1:\d+/)", said[-1]).group(1)
        with contextlib.suppress(queue.Empty):
            said.append(lines.get(timeout=1))  # the token line, when there is one
        return Served(process, said, url)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_the_server_says_where_it_listens_and_stops_on_sigterm(serve, news) -> None:
    served = serve("--editor", "Анна Петрова", "--json")
    assert any(line.startswith(f"Serving {news.path} at {served.url}") for line in served.said)
    assert any("(editing as Анна Петрова)" in line for line in served.said)
    status, body = served.get("/documents")
    assert status == 200 and b'<table id="documents">' in body
    served.process.send_signal(signal.SIGTERM)
    out, _ = served.process.communicate(timeout=60)
    assert served.process.returncode == 0
    announced = json.loads(out.splitlines()[0])
    assert announced["url"] == served.url and announced["editor"] == "Анна Петрова"


def test_ctrl_c_stops_it_with_exit_0(serve) -> None:
    served = serve("--read-only")
    assert any("(read-only)" in line for line in served.said)
    served.process.send_signal(signal.SIGINT)
    served.process.communicate(timeout=60)
    assert served.process.returncode == 0


def test_with_a_token_the_real_server_answers_only_with_it(serve, news) -> None:
    served = serve("--token", "s3cret-for-the-desk")
    assert any("?token=s3cret-for-the-desk" in line for line in served.said)
    assert served.get("/documents")[0] == 401
    assert served.get("/api/documents")[0] == 401
    status, body = served.get("/api/documents",
                              {"Authorization": "Bearer s3cret-for-the-desk"})
    assert status == 200 and json.loads(body)["total"] == 57


def test_the_token_from_the_environment(serve) -> None:
    served = serve(env={"RUEN_TOKEN": "from-the-env-token"})
    assert served.get("/api/documents")[0] == 401
    assert served.get("/api/documents", {"Authorization": "Bearer from-the-env-token"}
                      )[0] == 200


def test_connections_to_the_server_are_not_held_back_by_nagle() -> None:
    # uvicorn accepts connections through asyncio's create_server on the socket `ruen serve`
    # binds; asyncio sets TCP_NODELAY on each only when that socket's protocol is TCP. Without
    # it, a kept-alive connection's second request waited about 40 ms (measured by
    # bench.serve: 52 ms against 5 ms for a document page), which no functional test notices.
    from web.cli import _bind

    listening = _bind("127.0.0.1", 0)

    async def nodelay_of_an_accepted_connection() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Accepted(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Accepted, sock=listening)
        try:
            _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            nodelay = await asyncio.wait_for(accepted, 30)
            writer.close()
            return nodelay
        finally:
            server.close()
            await server.wait_closed()

    # a thread of its own: a sync Playwright session, if one is open, keeps a loop running here
    found: list[int] = []
    thread = threading.Thread(
        target=lambda: found.append(asyncio.run(nodelay_of_an_accepted_connection())))
    thread.start()
    thread.join(60)
    assert found and found[0] != 0


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def test_workers_share_the_port_and_stop_with_the_server(serve) -> None:
    served = serve("--workers", "2")
    [worker] = _children(served.process.pid)  # one forked worker beside the server itself
    statuses = {served.get("/api/documents")[0] for _ in range(20)}
    assert statuses == {200}
    served.process.send_signal(signal.SIGTERM)
    served.process.communicate(timeout=60)
    assert served.process.returncode == 0
    assert not os.path.exists(f"/proc/{worker}")  # stopped and reaped, not left serving
