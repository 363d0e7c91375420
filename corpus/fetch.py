"""Fetching a URL: the bytes of a web page, feed or document, with the limits a tool run every
hour against sites it does not control needs.

A timeout on connecting and on each read, and a deadline for the whole response (a server that
trickles a byte a second never ends otherwise); at most MAX_REDIRECTS redirects; a size limit
checked against Content-Length first, then while reading (a 2 GB response is refused, not
read); a User-Agent naming ruen. Only http and https. Every failure is one InputError naming
the URL: DNS, refused connection, timeout, HTTP status, redirect loop, size.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from importlib.metadata import PackageNotFoundError, version

from corpus.errors import InputError

_URL_SCHEMES = ("http://", "https://")
MAX_REDIRECTS = 10
_CHUNK = 1 << 16


def _user_agent() -> str:
    try:
        ours = version("ruen")
    except PackageNotFoundError:  # run from a checkout that is not installed
        ours = "dev"
    return f"ruen/{ours} (Russian-English translation archive; Python urllib)"


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0  # seconds to connect, and for each read
    deadline: float = 120.0  # seconds for the whole response
    max_bytes: int = 50 << 20
    user_agent: str = ""  # "" for ruen's own


@dataclass(frozen=True)
class Fetched:
    """A response: the URL asked for, where it ended after redirects, and its body."""

    url: str
    final_url: str
    content_type: str  # media type only, lower-case: "text/html"
    charset: str  # as declared in the Content-Type header, "" when not
    data: bytes


def is_url(source: str) -> bool:
    return source.lower().startswith(_URL_SCHEMES)


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS
    max_repeats = 1  # the same URL twice is a loop: say so at once


def fetch(url: str, settings: FetchSettings = FetchSettings()) -> Fetched:
    """GET `url`; raises InputError (naming the URL) for anything but a 2xx response whose
    body is at most `settings.max_bytes`."""
    if not is_url(url):
        raise InputError(f"{url}: only http:// and https:// URLs are fetched.")
    request = urllib.request.Request(url, headers={
        "User-Agent": settings.user_agent or _user_agent(),
        "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
                  "application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "ru,en;q=0.5"})
    opener = urllib.request.build_opener(_Redirects)
    started = time.monotonic()
    try:
        with opener.open(request, timeout=settings.timeout) as response:
            headers: Message = response.headers
            length = headers.get("Content-Length", "")
            if length.isdigit() and int(length) > settings.max_bytes:
                raise _too_big(url, settings.max_bytes, int(length))
            data = _read_limited(response, url, settings, started)
            return Fetched(url=url, final_url=response.geturl(),
                           content_type=headers.get_content_type().lower(),
                           charset=(headers.get_content_charset() or "").lower(), data=data)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise InputError(f"{url}: more than {MAX_REDIRECTS} redirects, or a redirect "
                             f"loop (HTTP {exc.code} to {exc.headers.get('Location', '?')}).") \
                from None
        raise InputError(f"{url}: HTTP {exc.code} {exc.reason}.") from None
    except urllib.error.URLError as exc:
        raise _unreachable(url, exc.reason, settings) from None
    except TimeoutError:
        raise _timed_out(url, settings) from None
    except (http.client.HTTPException, ConnectionError, ssl.SSLError) as exc:
        raise InputError(f"{url}: the server broke off the response ({exc or type(exc).__name__})."
                         ) from None


def _read_limited(response: http.client.HTTPResponse, url: str, settings: FetchSettings,
                  started: float) -> bytes:
    chunks, size = [], 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > settings.max_bytes:
            raise _too_big(url, settings.max_bytes)
        if time.monotonic() - started > settings.deadline:
            raise InputError(f"{url}: the response took longer than {settings.deadline:g} s; "
                             "nothing of it is kept.")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(url: str, limit: int, declared: int | None = None) -> InputError:
    size = f"{_megabytes(declared)}, " if declared is not None else ""
    return InputError(f"{url}: the response is {size}more than the {_megabytes(limit)} limit; "
                      "not read.")


def _megabytes(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} bytes"


def _timed_out(url: str, settings: FetchSettings) -> InputError:
    return InputError(f"{url}: no answer within {settings.timeout:g} s (timeout); try again "
                      "later or give --timeout more seconds.")


def _unreachable(url: str, reason: object, settings: FetchSettings) -> InputError:
    if isinstance(reason, TimeoutError):
        return _timed_out(url, settings)
    if isinstance(reason, socket.gaierror):
        host = urllib.request.urlparse(url).hostname
        return InputError(f"{url}: host {host} not found (DNS); check the address.")
    if isinstance(reason, ConnectionRefusedError):
        return InputError(f"{url}: connection refused; the server is down or the port is wrong.")
    if isinstance(reason, ssl.SSLError):
        return InputError(f"{url}: secure connection failed ({reason.reason or reason}).")
    return InputError(f"{url}: cannot connect ({getattr(reason, 'strerror', None) or reason}).")
