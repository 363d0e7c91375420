"""What every request passes through before a route sees it: the access token, the size of
the body, the CSRF cookie, and the headers that keep the browser strict (Content-Security-
Policy: no script but ours, no inline script, nothing framed)."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

log = logging.getLogger(__name__)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
TOKEN_COOKIE = "ruen_token"
CSRF_COOKIE = "ruen_csrf"
CSRF_HEADER = "X-CSRF-Token"
#: The largest request body accepted: a post-edit is a sentence, not a document.
MAX_BODY = 64 * 1024
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

ErrorPage = Callable[[Request, int, str], Response]


def is_loopback(host: str) -> bool:
    """Whether `host` only serves this machine (127.0.0.1, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def cookie(name: str, value: str) -> bytes:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode()


@dataclass
class Guard:
    """ASGI middleware: token (401), body size (413), CSRF cookie, security headers."""

    app: Any
    # access tokens (none: no token needed), each with the reviewer it names (None: the
    # server's --token, whose post-edits are the server's --editor's)
    tokens: dict[str, str | None]
    error_page: ErrorPage
    # Host names the server answers to (empty: any). Without a token, a page of another site
    # whose name an attacker points at 127.0.0.1 (DNS rebinding) would otherwise read the
    # archive through the reviewer's browser.
    hosts: tuple[str, ...] = ()

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        extra_headers: list[tuple[bytes, bytes]] = []
        started = False

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() not in {k for k, _ in HEADERS}]
                message = {**message, "headers": [*headers, *HEADERS, *extra_headers]}
            await send(message)

        async def respond(response: Response) -> None:
            await response(scope, receive, send_with_headers)

        if self.hosts and _host_name(request.headers.get("host", "")) not in self.hosts:
            await respond(self.error_page(
                request, 400, "This server answers only to its own address; open the one "
                              "`ruen serve` printed."))
            return
        # the script, styles and icon hold nothing of the archive: the 401 page needs them
        public = request.url.path.startswith("/static/") or request.url.path == "/favicon.ico"
        state = scope.setdefault("state", {})
        if self.tokens and not public:
            given = request.query_params.get("token")
            if given is not None and self.holder(given) and request.method == "GET":
                # a browser opens ?token=T once; the cookie carries it from then on
                rest = urlencode([(k, v) for k, v in request.query_params.multi_items()
                                  if k != "token"])
                target = request.url.path + (f"?{rest}" if rest else "")
                extra_headers.append((b"set-cookie", cookie(TOKEN_COOKIE, given)))
                await respond(RedirectResponse(target, status_code=303))
                return
            bearer = request.headers.get("authorization", "")
            holder = (self.holder(bearer.removeprefix("Bearer ").strip())
                      if bearer.startswith("Bearer ") else None) \
                or self.holder(request.cookies.get(TOKEN_COOKIE))
            if holder is None:
                await respond(self.error_page(
                    request, 401, "This archive needs its access token: open the address "
                    "`ruen serve` printed (…/?token=…), or send `Authorization: Bearer TOKEN`."))
                return
            state["reviewer"] = holder[0]  # None: the server's own token, its --editor

        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await respond(self.error_page(
                request, 413, f"The request body is larger than {MAX_BODY // 1024} KiB."))
            return
        if length is None and request.method not in SAFE_METHODS:
            body = b""  # chunked: read it here, up to the limit, and hand it on
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > MAX_BODY:
                    await respond(self.error_page(
                        request, 413, f"The request body is larger than {MAX_BODY // 1024} KiB."))
                    return
            replayed = False

            async def replay() -> dict:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay

        csrf = request.cookies.get(CSRF_COOKIE, "")
        if len(csrf) < 32 or not csrf.replace("-", "").replace("_", "").isalnum():
            csrf = secrets.token_urlsafe(32)
            extra_headers.append((b"set-cookie", cookie(CSRF_COOKIE, csrf)))
        state["csrf"] = csrf
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # a bug: logged with its traceback where the server runs; the browser gets a
            # page that says so (with the same headers), never the traceback
            log.exception("%s %s failed", request.method, request.url.path)
            if started:
                raise
            await respond(self.error_page(
                request, 500, "Something went wrong on the server; it is logged where "
                              "`ruen serve` runs."))


    def holder(self, given: str | None) -> tuple[str | None] | None:
        """(reviewer,) whose token this is, or None for no known token. Every token is
        compared in constant time, so that the time taken says nothing about any of them."""
        found = None
        for token, reviewer in self.tokens.items():
            if same(given, token):
                found = (reviewer,)
        return found


def _host_name(header: str) -> str:
    """`example.org` of `example.org:8000`, `::1` of `[::1]:8000`."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def csrf_ok(request: Request) -> bool:
    """A state-changing request carries the page's CSRF token in its header, and it is the one
    in this browser's cookie (another site can make the browser send the cookie, but cannot
    read the page to learn the token)."""
    return same(request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE))
