"""Post-editing through `ruen serve`: a save stores a post-edit as `ruen edit` does (the same
`Archive.post_edit`, with the editor), two reviewers saving the same sentence get a conflict
instead of overwriting each other, CSRF and read-only are enforced, and edits go through while
`ruen translate` writes to the same archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.store import Archive

EDITOR = "Анна Петрова"  # tests/web/conftest.py: the server's --editor


def _csrf(client) -> str:
    return client.get("/api/session").json()["csrf_token"]


def _save(client, doc: int, index: int, en: str, version: int | None, token: str | None = None,
          **extra):
    headers = {"X-CSRF-Token": _csrf(client) if token is None else token}
    return client.post(f"/api/documents/{doc}/sentences/{index}", json={
        "en": en, "version": version}, headers=headers, **extra)


def _version(client, doc: int, index: int) -> int:
    return client.get(f"/api/documents/{doc}/sentences/{index}").json()["version"]


def test_a_save_is_a_post_edit_with_its_editor(client, news) -> None:
    seen = _version(client, news.hama, 1)
    saved = _save(client, news.hama, 1, "The city of Hama has been fully liberated.", seen)
    assert saved.status_code == 200, saved.text
    answer = saved.json()
    assert answer["stored"] and answer["version"] != seen and answer["editor"] == EDITOR
    assert answer["sentence"]["kind"] == "post-edit" and answer["sentence"]["editor"] == EDITOR
    # where the page's script marks the glossary term in the new English: Hama is there now
    assert answer["sentence"]["en_marks"] == [
        {"start": 12, "end": 16, "status": "ok", "title": "glossary: Хама → Hama (ok)"}]
    assert answer["sentence"]["ru_marks"][0]["status"] == "ok"
    with Archive(news.path) as archive:  # what `ruen show` and `ruen show --history` read
        pairs = list(archive.pairs(news.hama))
        assert (pairs[1].en, pairs[1].kind) == ("The city of Hama has been fully liberated.",
                                                "post-edit")
        history = [e for e in archive.history(news.hama) if e.index == 1]
        assert [(e.kind, e.editor, e.current) for e in history] == [
            ("mt", None, False), ("post-edit", EDITOR, True)]
        assert archive.current_version(news.hama, 1) == answer["version"]
    shown = client.get(f"/api/documents/{news.hama}/sentences/1/history").json()["history"]
    assert [(h["kind"], h["editor"], h["en"]) for h in shown] == [
        ("mt", None, "The city of Khama has been completely liberated after fierce fighting."),
        ("post-edit", EDITOR, "The city of Hama has been fully liberated.")]
    page = client.get(f"/documents/{news.hama}")
    assert f'data-version="{answer["version"]}" data-kind="post-edit"' in page.text
    assert f'<span class="by">by {EDITOR}</span>' in page.text
    # the glossary term is checked again on the new English: Hama is there now
    assert 'The city of <span class="term term-ok" title="glossary: Хама → Hama (ok)">Hama' \
           "</span> has been fully liberated." in page.text
    listed = client.get("/api/documents", params={"site": "vestnik-vostoka.example"}).json()
    assert listed["documents"][0]["post_edited"] == 1


def test_saving_the_same_text_stores_nothing(client, news) -> None:
    seen = _version(client, news.homs, 0)
    same = _save(client, news.homs, 0, "New clashes began in Homs province on Thursday.", seen)
    assert same.status_code == 200 and not same.json()["stored"]
    assert same.json()["version"] == seen


def test_two_reviewers_saving_one_sentence_conflict(make_client, news) -> None:
    anna, boris = make_client(), make_client()
    seen = _version(anna, news.hama, 2)
    assert _version(boris, news.hama, 2) == seen  # both opened the same translation
    first = _save(anna, news.hama, 2, "Thousands of residents left the city in 3 days.", seen)
    assert first.status_code == 200
    second = _save(boris, news.hama, 2, "Thousands of people fled the city within 3 days.",
                   seen)
    assert second.status_code == 409
    body = second.json()
    assert body["theirs"] == "Thousands of residents left the city in 3 days."
    assert body["yours"] == "Thousands of people fled the city within 3 days."
    assert body["version"] == first.json()["version"] and "changed" in body["error"]
    with Archive(news.path) as archive:
        assert [e.en for e in archive.history(news.hama) if e.index == 2] == [
            "Thousands of residents left the city in 5 days.",
            "Thousands of residents left the city in 3 days."]  # nothing overwritten
    # having seen both, the second reviewer saves again from the version now stored
    again = _save(boris, news.hama, 2, "Thousands of people fled the city within 3 days.",
                  body["version"])
    assert again.status_code == 200 and again.json()["stored"]
    history = boris.get(f"/api/documents/{news.hama}/sentences/2/history").json()["history"]
    assert [h["kind"] for h in history] == ["mt", "post-edit", "post-edit"]  # every save kept


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_a_save_without_the_csrf_token_is_403(client, news, token) -> None:
    seen = _version(client, news.hama, 0)
    refused = _save(client, news.hama, 0, "Forged.", seen, token=token)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]
    # the token of another browser does not do either
    other = client.get("/api/session").json()["csrf_token"]
    client.cookies.clear()
    assert _save(client, news.hama, 0, "Forged.", seen, token=other).status_code == 403
    with Archive(news.path) as archive:
        assert archive.current_version(news.hama, 0) == seen


def test_the_page_carries_the_csrf_token_of_its_cookie(client, news) -> None:
    page = client.get(f"/documents/{news.hama}")
    cookie = client.cookies["ruen_csrf"]
    assert f'<meta name="csrf-token" content="{cookie}">' in page.text
    assert client.get("/documents").cookies.get("ruen_csrf") is None  # kept, not renewed
    assert _save(client, news.hama, 0, "Regime forces retreat towards Homs.",
                 _version(client, news.hama, 0), token=cookie).status_code == 200


@pytest.mark.parametrize(("body", "status"), [
    ({"en": "   ", "version": 1}, 400),
    ({"version": 1}, 400),
    ({"en": 5, "version": 1}, 400),
    ({"en": "Fine.", "version": "one"}, 400),
])
def test_bad_saves_are_400_and_store_nothing(client, news, body, status) -> None:
    response = client.post(f"/api/documents/{news.hama}/sentences/0", json=body,
                           headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == status and response.json()["error"]
    with Archive(news.path) as archive:
        assert [e.kind for e in archive.history(news.hama) if e.index == 0] == ["mt"]


def test_a_body_that_is_not_json_is_400(client, news) -> None:
    response = client.post(f"/api/documents/{news.hama}/sentences/0", content=b"en=x",
                           headers={"X-CSRF-Token": _csrf(client),
                                    "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]


def test_an_oversize_body_is_413(client, news) -> None:
    response = client.post(f"/api/documents/{news.hama}/sentences/0",
                           json={"en": "Hama. " * 20_000, "version": 1},
                           headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 413 and "KiB" in response.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b"x" * 1024

    chunked = client.post(f"/api/documents/{news.hama}/sentences/0", content=chunks(),
                          headers={"X-CSRF-Token": _csrf(client),
                                   "Content-Type": "application/json"})
    assert chunked.status_code == 413
    page = client.post("/documents", content=b"x" * 70_000)
    assert page.status_code == 413 and "<h1>413</h1>" in page.text


def test_saving_a_sentence_that_is_not_there_is_404(client, news) -> None:
    assert _save(client, 999, 0, "Nothing.", None).status_code == 404
    missing = _save(client, news.hama, 99, "Nothing.", None)
    assert missing.status_code == 404 and "no sentence 99" in missing.json()["error"]


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/documents"), ("put", "/api/documents/1/sentences/0"),
    ("delete", "/api/documents/1"), ("post", "/api/search"), ("patch", "/search")])
def test_a_wrong_method_is_405(client, method, path) -> None:
    response = getattr(client, method)(path, headers={"X-CSRF-Token": _csrf(client)})
    assert response.status_code == 405
    if path.startswith("/api/"):
        assert response.json()["error"].startswith(method.upper())
    else:
        assert "<h1>405</h1>" in response.text


def test_read_only_has_no_edit_routes(make_client, news) -> None:
    client = make_client(read_only=True)
    seen = _version(client, news.hama, 0)
    refused = _save(client, news.hama, 0, "Regime forces retreat.", seen)
    assert refused.status_code == 405
    page = client.get(f"/documents/{news.hama}")
    assert 'data-editable="0"' in page.text and "read-only" in page.text
    schema = client.get("/openapi.json").json()
    assert "post" not in schema["paths"]["/api/documents/{doc_id}/sentences/{index}"]
    assert client.get("/api/session").json()["read_only"] is True
    with Archive(news.path) as archive:
        assert archive.current_version(news.hama, 0) == seen


# ---------------------------------------------------------------- while ruen translate writes


def test_edits_while_ruen_translate_writes_to_the_archive(client, news, tiny_model: Path,
                                                          tmp_path: Path, ruen_process) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for number in range(4):
        (folder / f"{number}.txt").write_text(
            f"Сводка {number}. Силы режима отступают под давлением повстанцев. "
            "Город Хама полностью освобожден после ожесточенных боев.\n", encoding="utf-8")
    writer = ruen_process("translate", str(folder), "--db", str(news.path), "--model",
                          str(tiny_model), "--backend", "transformers", "--batch-tokens", "16",
                          "--no-glossary", "--format", "jsonl", delay=0.4)
    saved = []
    index = 0
    while writer.poll() is None and index < 6:
        seen = _version(client, news.hama, index)
        response = _save(client, news.hama, index, f"Reviewed sentence {index}.", seen)
        assert response.status_code == 200, response.text
        saved.append(index)
        index += 1
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert len(saved) >= 2  # at least two saves happened while it was translating
    with Archive(news.path) as archive:
        pairs = list(archive.pairs(news.hama))
        assert [pairs[i].en for i in saved] == [f"Reviewed sentence {i}." for i in saved]
        translated = [d for d in archive.documents() if d.path.startswith(str(folder))]
        assert len(translated) == 4 and all(d.segments == 3 for d in translated)
    assert len(out.splitlines()) == 12
