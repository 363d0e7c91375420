"""A local web server for the tests of URLs and feeds: real HTTP on 127.0.0.1, started by the
test, serving what the test puts in its routes (pages, feeds, redirects, errors, slow and
endless responses). No test goes to the internet."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    length: int | None = None  # Content-Length to declare, when not len(body)
    repeat: int = 1  # the body sent this many times (an endless response, without length)


@dataclass
class WebServer:
    base: str
    routes: dict[str, Route]
    requests: list[str]  # paths asked for, in order
    user_agents: list[str]

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, body: bytes | str, **options: object) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        self.routes[path] = Route(status=status, headers={"Location": to})
        return self.url(path)


@pytest.fixture
def web() -> Iterator[WebServer]:
    routes: dict[str, Route] = {}
    requests: list[str] = []
    agents: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            agents.append(self.headers.get("User-Agent", ""))
            route = routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.repeat == 1:
                length = len(route.body) if route.length is None else route.length
                self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                for _ in range(route.repeat):
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what a size limit does

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebServer(f"http://127.0.0.1:{server.server_address[1]}", routes, requests,
                        agents)
    finally:
        server.shutdown()
        server.server_close()
