"""`ruen serve`: the review web app on an archive. FastAPI and uvicorn are imported when the
command runs, so that every other `ruen` command starts without them (and without the `web`
extra installed)."""

from __future__ import annotations

import contextlib
import ctypes
import json as json_module
import os
import signal
import socket
import sys
from typing import Annotated, Any

import typer

from corpus.console import App, fail, note
from corpus.options import (
    DbOption,
    EditorOption,
    GlossaryOption,
    JsonOption,
    NoGlossaryOption,
    default_editor,
)
from corpus.store import default_archive_path

app = App()


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(
        metavar="ADDRESS", help="Address to listen on; any but this machine's own (127.0.0.1, "
                                "::1, localhost) needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, metavar="N",
                                      help="Port to listen on; 0 picks a free one.")] = 8000,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="RUEN_TOKEN", show_default=False, metavar="TOKEN",
        help="Access token every request must carry [default: $RUEN_TOKEN; none on "
             "127.0.0.1].")] = None,
    reviewer: Annotated[list[str] | None, typer.Option(
        "--reviewer", envvar="RUEN_REVIEWERS", show_default=False, metavar="NAME:TOKEN",
        help="A reviewer and their own access token (repeatable; $RUEN_REVIEWERS: several, "
             "space-separated): their post-edits are stored under their name.")] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="Serve without editing (no post-edit routes).")] = False,
    editor: EditorOption = None,
    glossary: GlossaryOption = None,
    no_glossary: NoGlossaryOption = False,
    workers: Annotated[int, typer.Option(
        min=1, max=64, metavar="N",
        help="Server processes sharing the port, each with its own connections to the "
             "archive: searches of several reviewers at once on several cores.")] = 1,
    json: JsonOption = False,
) -> None:
    """Review the archive in a browser: documents, each document's sentences side by side with
    terms, QA flags and confidence, post-editing from the keyboard, search, the glossary audit
    and quality; a JSON API behind every page (/openapi.json). Stop it with Ctrl-C.

    Examples:

    ```
    ruen serve --db archive.db
    ruen serve --port 8080 --read-only
    ruen serve --db archive.db --workers 2
    ruen serve --editor anna --glossary mine.tsv
    ruen serve --host 0.0.0.0 --token s3cret-for-the-desk
    ruen serve --host 0.0.0.0 --reviewer anna:k3y-of-anna-07
    ```
    """
    from web.security import is_loopback, new_token

    if token is not None and not token.strip():
        raise fail("--token is empty; give a token, or leave it out on 127.0.0.1.")
    reviewers = _reviewers(reviewer or [], token)
    if not is_loopback(host) and token is None and not reviewers:
        raise fail(f"--host {host} serves the archive to other machines: give an access token "
                   f"with --token or RUEN_TOKEN (for example --token {new_token()}).")
    try:
        import uvicorn

        from web.app import ServeSettings, create_app
    except ImportError as exc:  # the `web` extra is not installed
        raise fail(f"ruen serve needs the web extra ({exc.name} is missing): "
                   "pip install 'ruen[web]'.") from None
    from translate.glossary.cli import build_glossary
    from translate.glossary.core import Glossary

    path = db or default_archive_path()
    terms = build_glossary(glossary, no_glossary) or Glossary([])
    # without a token only this machine's names are answered (no DNS rebinding); with one,
    # whatever name the other machines know this one by
    needs_token = token is not None or bool(reviewers)
    hosts = () if needs_token else ("127.0.0.1", "localhost", "::1", host.strip("[]"))
    settings = ServeSettings(db=path, editor=editor or default_editor(),
                             read_only=read_only, token=token, glossary=terms, hosts=hosts,
                             reviewers=reviewers)
    web_app = create_app(settings)  # an archive that is not there or not usable fails here
    listening = _bind(host, port)
    real_port = listening.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{real_port}/"

    def on_listening() -> None:
        note(f"Serving {path} at {url}" + (" (read-only)" if read_only else
                                           f" (editing as {settings.editor})"))
        if token is not None:
            note(f"Access token required: open {url}?token={token} once in the browser, or "
                 "send `Authorization: Bearer TOKEN`.")
        if reviewers:
            note(f"Reviewers: {', '.join(sorted(reviewers.values()))}; each opens "
                 f"{url}?token=THEIR-TOKEN once.")
        if json:
            print(json_module.dumps({"url": url, "db": str(path), "read_only": read_only,
                                     "editor": settings.editor}), flush=True)
        sys.stderr.flush()

    # the other workers: forked once the port is bound (so they share it), each building its
    # own app, since open connections (SQLite's, psycopg's pool) must not cross a fork
    children = [_fork_worker(listening, settings) for _ in range(workers - 1)]
    config = uvicorn.Config(web_app, log_level="warning", lifespan="on",
                            server_header=False)
    server = _server_class()(config, on_listening)
    try:
        server.run(sockets=[listening])
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)
        for child in children:
            os.waitpid(child, 0)
    note("Stopped.")


def _fork_worker(listening: socket.socket, settings: Any) -> int:
    """A child process serving the same port with an app of its own; it ends with its parent
    (SIGTERM from the parent, or the parent's death: PR_SET_PDEATHSIG)."""
    pid = os.fork()
    if pid:
        return pid
    try:
        with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere SIGTERM
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        import uvicorn

        from web.app import create_app

        config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on",
                                server_header=False)
        _server_class()(config, lambda: None).run(sockets=[listening])
    finally:
        os._exit(0)  # never back into the parent's code (typer, its finalisers)


MIN_TOKEN = 8


def _reviewers(given: list[str], token: str | None) -> dict[str, str]:
    """{token: name} of `--reviewer NAME:TOKEN` values; refused when malformed, too short to
    guess or one token for two people."""
    reviewers: dict[str, str] = {}
    for value in given:
        name, _, secret = value.partition(":")
        name, secret = name.strip(), secret.strip()
        if not name or not secret:
            raise fail(f"--reviewer {value!r}: give NAME:TOKEN (anna:a-long-random-token).")
        if len(secret) < MIN_TOKEN:
            raise fail(f"--reviewer {name}: the token is shorter than {MIN_TOKEN} characters; "
                       "anyone could guess it.")
        if secret in reviewers or secret == token:
            raise fail(f"--reviewer {name}: that token is already someone else's; give each "
                       "reviewer their own.")
        reviewers[secret] = name
    return reviewers


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY on the connections it accepts
    # only from a socket whose protocol says TCP. Without it every request after the first on
    # a kept-alive connection (browsers keep them) waited ~40 ms for a delayed ACK.
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host.strip("[]"), port))
    except OSError as exc:
        listening.close()
        raise fail(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port "
                   "(0 picks a free one) or --host.") from None
    listening.listen(128)
    listening.set_inheritable(True)
    return listening


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, saying when it listens, and ending with exit 0 on Ctrl-C or
        SIGTERM (uvicorn re-raises the signal after shutting down: 130 or a kill)."""

        def __init__(self, config: Any, on_listening: Any) -> None:
            super().__init__(config)
            self.on_listening = on_listening

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                self.on_listening()

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop without waiting
            else:
                self.should_exit = True

    return Server
