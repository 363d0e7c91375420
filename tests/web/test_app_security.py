"""What keeps a newsroom archive's review server safe: the access token, the headers that keep
the browser strict (CSP, cookie flags), and errors that say what is wrong without showing the
server's insides."""

from __future__ import annotations

import re

import pytest

from web.security import CSP, is_loopback

TOKEN = "s3cret-for-the-desk"


def _cookie_flags(response, name: str) -> set[str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return {part.strip() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {response.headers}")


@pytest.mark.parametrize("path", ["/documents", "/api/documents", "/nowhere", "/api/nowhere",
                                  "/static/review.js", "/openapi.json", "/search?q=%22"])
def test_every_response_carries_the_csp(client, path) -> None:
    response = client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, news) -> None:
    for path in ["/documents", f"/documents/{news.hama}", "/search?q=Хама", "/glossary",
                 "/quality", "/nowhere"]:
        html = client.get(path).text
        assert html.count("<script") == 1 and '<script src="/static/review.js" defer>' in html
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"<[a-z][^<>]*\son[a-z]+\s*=", html)  # no event handler attribute


def test_the_csrf_cookie_is_httponly_and_strict(client) -> None:
    response = client.get("/documents")
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= _cookie_flags(response, "ruen_csrf")


# ---------------------------------------------------------------- the token


def test_with_a_token_requests_without_it_are_401(make_client, news) -> None:
    client = make_client(token=TOKEN)
    page = client.get("/documents")
    assert page.status_code == 401 and "<h1>401</h1>" in page.text and TOKEN not in page.text
    api = client.get(f"/api/documents/{news.hama}")
    assert api.status_code == 401 and "token" in api.json()["error"]
    # the page's script, styles and icon hold nothing of the archive: the 401 page uses them
    assert client.get("/static/review.js").status_code == 200
    assert client.get("/favicon.ico").status_code == 200
    assert client.get("/openapi.json").status_code == 401
    wrong = client.get("/api/documents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/api/documents", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/documents?token=nope").status_code == 401


def test_scripts_send_the_token_as_a_bearer(make_client, news) -> None:
    client = make_client(token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/documents", headers=bearer).json()["total"] == 57
    csrf = client.get("/api/session", headers=bearer).json()["csrf_token"]
    saved = client.post(f"/api/documents/{news.homs}/sentences/1",
                        json={"en": "The defence minister announced a tactical withdrawal.",
                              "version": None},
                        headers={**bearer, "X-CSRF-Token": csrf})
    assert saved.status_code == 200 and saved.json()["stored"]


def test_a_browser_opens_the_token_link_once(make_client, news) -> None:
    client = make_client(token=TOKEN)
    first = client.get(f"/documents/{news.homs}?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/documents/{news.homs}"  # the token leaves the URL
    assert {"HttpOnly", "SameSite=Strict"} <= _cookie_flags(first, "ruen_token")
    assert client.get(f"/documents/{news.homs}").status_code == 200  # the cookie carries it
    kept = client.get(f"/search?q=Хомс&token={TOKEN}&lang=ru", follow_redirects=False)
    assert kept.headers["location"] == "/search?q=%D0%A5%D0%BE%D0%BC%D1%81&lang=ru"


def test_each_reviewers_token_credits_their_post_edits(make_client, news) -> None:
    """Reviewers with tokens of their own (`--reviewer NAME:TOKEN`): each save is stored under
    the name of the token's holder; the server's own --token edits as its --editor."""
    from corpus.store import Archive

    client = make_client(token=TOKEN, reviewers={"anna-token-0123": "Анна",
                                                 "ivan-token-4567": "Иван"})
    for token, text in [("anna-token-0123", "Regime forces fall back towards Homs."),
                        ("ivan-token-4567", "Regime forces retreat towards Homs."),
                        (TOKEN, "Government forces retreat towards Homs.")]:
        client.cookies.clear()
        assert client.get(f"/?token={token}", follow_redirects=False).status_code == 303
        session = client.get("/api/session").json()
        saved = client.post(f"/api/documents/{news.hama}/sentences/0",
                            json={"en": text, "version": None},
                            headers={"X-CSRF-Token": session["csrf_token"]})
        assert saved.status_code == 200, saved.text
    with Archive(news.path) as archive:
        edits = [(e.editor, e.en) for e in archive.history(news.hama)
                 if e.index == 0 and e.kind == "post-edit"]
    assert edits == [("Анна", "Regime forces fall back towards Homs."),
                     ("Иван", "Regime forces retreat towards Homs."),
                     ("Анна Петрова", "Government forces retreat towards Homs.")]
    client.cookies.clear()
    page = client.get("/documents", headers={"Authorization": "Bearer ivan-token-4567"})
    assert "editing as Иван" in page.text
    assert client.get("/documents", headers={"Authorization": "Bearer ivan"}
                      ).status_code == 401


def test_without_a_token_loopback_needs_none(client) -> None:
    assert client.get("/api/documents").status_code == 200


def test_without_a_token_only_this_machines_names_are_answered(news) -> None:
    """A site whose name is pointed at 127.0.0.1 (DNS rebinding) gets nothing from the
    reviewer's browser."""
    from fastapi.testclient import TestClient

    from web.app import ServeSettings, create_app

    app = create_app(ServeSettings(db=news.path, editor="x",
                                   hosts=("127.0.0.1", "localhost", "::1")))
    for base, status in [("http://127.0.0.1:8000", 200), ("http://localhost:8000", 200),
                         ("http://[::1]:8000", 200), ("http://evil.example:8000", 400),
                         ("http://127.0.0.1.evil.example", 400)]:
        response = TestClient(app, base_url=base).get("/api/documents")
        assert response.status_code == status, base
        if status == 400:
            assert "own address" in response.json()["error"]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("192.168.1.20", False), ("::", False), ("example.org", False)])
def test_what_counts_as_this_machine(host, loopback) -> None:
    assert is_loopback(host) is loopback


# ---------------------------------------------------------------- errors


def test_an_error_in_the_server_is_500_without_a_traceback(make_client, news,
                                                           monkeypatch) -> None:
    client = make_client(raise_server_exceptions=False)
    from corpus import review

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(review, "document_sentences", broken)
    page = client.get(f"/documents/{news.hama}")
    assert page.status_code == 500 and "secret internals" not in page.text
    assert "Traceback" not in page.text and "<h1>500</h1>" in page.text
    api = client.get(f"/api/documents/{news.hama}")
    assert api.status_code == 500 and set(api.json()) == {"error"}
    assert api.headers["content-security-policy"] == CSP


def test_errors_do_not_show_where_the_archive_is(client, news) -> None:
    for path in ["/documents/999", "/api/documents/999", "/api/documents/1/sentences/99"]:
        assert str(news.path.parent) not in client.get(path).text
