"""The pages and the JSON API of `ruen serve` on a news archive: what a reviewer sees (documents
with their review state, a document side by side, search, the glossary audit, quality), the
filters, sorting and paging, and archive text shown as text whatever markup it holds."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from corpus.store import Archive

SCRIPT = "<script>alert(1)</script>"
IMG_ESCAPED = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, to assert on the structure."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str, cls: str = "", **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag
                and (not cls or cls in a.get("class", "").split())
                and all(a.get(k) == v for k, v in attrs.items())]


def _rows(html: str) -> list[dict[str, str]]:
    return _Elements(html).find("tr", "sentence")


def _no_live_markup(html: str) -> None:
    """Only ruen's own script tag and no element made from archive text."""
    tags = _Elements(html)
    assert [a["src"] for a in tags.find("script")] == ["/static/review.js"]
    assert not tags.find("img")
    assert "<script>alert" not in html and "<img src=x" not in html


# ---------------------------------------------------------------- documents


def test_home_goes_to_the_documents(client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/documents"


def test_documents_page_lists_documents_with_their_review_state(client, news) -> None:
    page = client.get("/documents?site=Вестник Востока")
    assert page.status_code == 200
    rows = _Elements(page.text).find("tr", "document")
    assert [r["data-doc"] for r in rows] == [str(news.hama)]
    assert f'<a class="document-link" href="/documents/{news.hama}">Бои под Хамой ' \
           f"{SCRIPT_ESCAPED}</a>" in page.text
    api = client.get("/api/documents", params={"site": "Вестник Востока"}).json()
    [hama] = api["documents"]
    assert (hama["sentences"], hama["post_edited"], hama["errors"], hama["warnings"]) == \
        (6, 0, 1, 1)
    assert (hama["site"], hama["published"]) == ("Вестник Востока", "2026-11-28")
    _no_live_markup(page.text)


def test_documents_are_paged_fifty_a_page(client, news) -> None:
    first = client.get("/documents")
    tags = _Elements(first.text)
    assert len(tags.find("tr", "document")) == 50
    assert not tags.find("a", "page-prev")
    [next_link] = tags.find("a", "page-next")
    second = client.get(next_link["href"])
    rows = _Elements(second.text).find("tr", "document")
    assert len(rows) == 57 - 50  # two articles and 55 reports
    assert _Elements(second.text).find("a", "page-prev") and \
        not _Elements(second.text).find("a", "page-next")
    seen = {r["data-doc"] for r in tags.find("tr", "document")} | {r["data-doc"] for r in rows}
    assert len(seen) == 57
    api = client.get("/api/documents?page=2").json()
    assert (api["total"], api["pages"], len(api["documents"])) == (57, 2, 7)


@pytest.mark.parametrize(("params", "expected"), [
    # newest added first by default: the last report stored first
    ({"sort": "added", "site": "courier.example"}, ["homs"]),
    ({"sort": "published", "since": "2026-10-01"}, ["hama", "homs"]),
    ({"sort": "published", "since": "2026-10-01", "until": "2026-10-31"}, ["homs"]),
    ({"errors": "1"}, ["hama"]),
    ({"system": "marian-news"}, ["homs"]),
    ({"sort": "title", "site": "yug.example", "until": "2026-09-01"},
     ["Сводка 01", "Сводка 29"]),
])
def test_documents_filter_and_sort(client, news, params, expected) -> None:
    names = {news.hama: "hama", news.homs: "homs"}
    found = client.get("/api/documents", params=params).json()["documents"]
    assert [names.get(d["id"], d["title"]) for d in found] == expected
    page = client.get("/documents", params=params)
    assert [int(r["data-doc"]) for r in _Elements(page.text).find("tr", "document")] == \
        [d["id"] for d in found]


def test_documents_sorted_by_title_and_newest_added(client, news) -> None:
    by_title = client.get("/api/documents?sort=title&per_page=50").json()["documents"]
    titles = [d["title"] for d in by_title]
    assert titles == sorted(titles)
    added = client.get("/api/documents").json()["documents"]
    assert added[0]["id"] == news.filler[-1] and added[-1]["id"] > news.homs - 50


@pytest.mark.parametrize("query", ["since=yesterday", "sort=size", "page=0", "page=x",
                                   "system=nothing-like-this"])
def test_bad_document_filters_are_400(client, query) -> None:
    page = client.get(f"/documents?{query}")
    assert page.status_code == 400 and 'class="error"' in page.text
    assert "Traceback" not in page.text
    api = client.get(f"/api/documents?{query}")
    assert api.status_code == 400 and api.json()["error"]


# ---------------------------------------------------------------- one document


def test_document_page_side_by_side(client, news) -> None:
    page = client.get(f"/documents/{news.hama}")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert [r["data-index"] for r in rows] == [str(i) for i in range(6)]
    assert [r["id"] for r in rows] == [f"s-{i}" for i in range(6)]
    classes = [set(r["class"].split()) for r in rows]
    assert "paragraph-start" in classes[0] and "paragraph-start" in classes[3]
    assert not {"paragraph-start", "flagged", "warned"} & classes[4]
    assert "flagged" in classes[1] and "warned" in classes[2] and "flagged" not in classes[2]
    versions = [int(r["data-version"]) for r in rows]
    with Archive(news.path) as archive:
        assert versions == [archive.current_version(news.hama, i) for i in range(6)]
    table = _Elements(page.text).find("table", id="sentences")[0]
    assert table["data-doc"] == str(news.hama) and table["data-editable"] == "1"
    # terms marked in both languages with their status; a missing one on the Russian side only
    assert '<span class="term term-missing" title="glossary: Хама → Hama (missing)">Хама' \
           "</span> полностью" in page.text
    assert '<span class="term term-enforced" title="glossary: Хаму → Hama (enforced)">' \
           "Хаму</span>" in page.text
    assert 'entered <span class="term term-enforced" title="glossary: Хаму → Hama ' \
           '(enforced)">Hama</span>' in page.text
    assert 'towards <span class="term term-ok"' in page.text
    assert "Khama</span>" not in page.text
    assert '<ul class="flags"><li class="flag severity-error" title="glossary-missing">' \
           in page.text
    assert '<td class="score">-1.92</td>' in page.text
    assert '<button type="button" id="next-flagged">' in page.text


def test_markup_in_the_archive_is_shown_as_text(client, news) -> None:
    page = client.get(f"/documents/{news.hama}")
    assert f"В сводке была строка {SCRIPT_ESCAPED}, которую" in page.text
    assert f"The headline looked like this: {IMG_ESCAPED}." in page.text
    assert f"<title>Бои под Хамой {SCRIPT_ESCAPED} · ruen</title>" in page.text
    _no_live_markup(page.text)
    sentences = client.get(f"/api/documents/{news.hama}").json()["sentences"]
    assert sentences[4]["en"] == 'The headline looked like this: "><img src=x onerror=alert(1)>.'


def test_document_api_has_everything_a_row_shows(client, news) -> None:
    data = client.get(f"/api/documents/{news.hama}").json()
    first, missing = data["sentences"][0], data["sentences"][1]
    assert data["title"].startswith("Бои под Хамой")
    assert (first["kind"], first["score"], first["flags"]) == ("mt", -0.31, [])
    assert first["terms"] == [{"ru": "Хомсу", "en": "Homs", "status": "ok", "start": 25,
                               "end": 30}]
    assert missing["flags"] == [{"check": "glossary-missing", "severity": "error",
                                 "message": "Хама: Hama is not in the translation"}]
    assert first["version"] > 0 and "Hellsinki" not in first["system"]
    assert first["system"].startswith("model:Helsinki-NLP/opus-mt-ru-en|rev:abc123")
    one = client.get(f"/api/documents/{news.hama}/sentences/1").json()
    assert one == missing


@pytest.mark.parametrize("path", ["/documents/999", "/documents/abc", "/documents/0",
                                  "/api/documents/999", "/api/documents/1/sentences/99",
                                  "/api/documents/1/sentences/99/history", "/no/such/page"])
def test_what_is_not_there_is_404(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json()["error"]
        assert "news.db" not in response.text  # the archive's path stays on the server
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1>404</h1>" in response.text and "Traceback" not in response.text


# ---------------------------------------------------------------- search


def test_search_hits_with_highlights_and_links(client, news) -> None:
    page = client.get("/search", params={"q": "Хама", "lang": "ru"})
    assert page.status_code == 200
    hits = _Elements(page.text).find("li", "hit")
    links = [a["href"] for a in _Elements(page.text).find("a", "hit-link")]
    assert len(hits) == 2 and set(links) == {f"/documents/{news.hama}#s-1",
                                            f"/documents/{news.hama}#s-5"}
    assert "Город <mark>Хама</mark> полностью" in page.text
    assert "Бойцы вошли в <mark>Хаму</mark> с севера." in page.text  # every form
    assert "The fighters entered Hama from the north." in page.text  # the aligned translation
    assert 'name="q" value="Хама"' in page.text and "<option value=\"ru\" selected>" in page.text


def test_search_on_both_sides_marks_the_english_too(client, news) -> None:
    hits = client.get("/api/search", params={"q": "retreat"}).json()["hits"]
    # by lemma: retreating is a form of retreat
    assert {(h["doc"], h["index"]) for h in hits} == {(news.homs, 1), (news.hama, 0)}
    page = client.get("/search?q=retreat")
    assert "announced a tactical <mark>retreat</mark>." in page.text
    english = client.get("/search?q=retreating&lang=en")
    assert "Regime forces are <mark>retreating</mark>" in english.text


def test_search_options_are_the_clis(client, news) -> None:
    def found(**params: str) -> list[tuple[int, int]]:
        return [(h["doc"], h["index"]) for h in
                client.get("/api/search", params=params).json()["hits"]]

    assert set(found(q="Хомс", lang="ru")) == {(news.homs, 0), (news.hama, 0)}
    assert found(q="Хомс", lang="ru", exact="1") == [(news.homs, 0)]  # Хомсу is another form
    assert found(q="Хомс", lang="ru", site="courier.example") == [(news.homs, 0)]
    assert found(q="Хомс", lang="ru", until="2026-10-31") == [(news.homs, 0)]
    assert found(q="Хомс", lang="ru", since="2026-11-01") == [(news.hama, 0)]
    assert found(q="Хомс", lang="ru", doc=str(news.hama)) == [(news.hama, 0)]
    assert found(q='"тактическом отступлении"', lang="ru") == [(news.homs, 1)]
    assert found(q="Хомс", lang="ru", system="marian-news") == [(news.homs, 0)]
    assert found(q="Дамаска NOT номер", lang="ru") == []


def test_search_pages_twenty_hits(client, news) -> None:
    first = client.get("/search?q=Дамаска&lang=ru")
    assert len(_Elements(first.text).find("li", "hit")) == 20
    [more] = _Elements(first.text).find("a", "page-next")
    assert "q=%D0%94%D0%B0%D0%BC%D0%B0%D1%81%D0%BA%D0%B0" in more["href"] and "page=2" in \
        more["href"]
    second = client.get(more["href"])
    third = client.get(more["href"].replace("page=2", "page=3"))
    counts = [len(_Elements(p.text).find("li", "hit")) for p in (second, third)]
    assert counts == [20, 15]
    links = {a["href"] for p in (first, second, third)
             for a in _Elements(p.text).find("a", "hit-link")}
    assert len(links) == 55  # no hit twice
    api = client.get("/api/search?q=Дамаска&lang=ru&page=3").json()
    assert (len(api["hits"]), api["more"]) == (15, False)


def test_paging_keeps_every_document_of_the_search(client, news) -> None:
    docs = [*news.filler[:21], news.homs]
    url = "/search?q=Дамаска&lang=ru&" + "&".join(f"doc={d}" for d in docs)
    first = client.get(url)
    [more] = _Elements(first.text).find("a", "page-next")
    assert more["href"].count("doc=") == len(docs)
    second = client.get(more["href"])
    assert len(_Elements(second.text).find("li", "hit")) == 1  # 21 reports: 20, then 1
    hidden = _Elements(second.text).find("input", type="hidden", name="doc")
    assert sorted(int(h["value"]) for h in hidden) == sorted(docs)


def test_the_url_is_the_query(client, news) -> None:
    url = "/search?q=" + quote('"новые столкновения"') + "&lang=ru&exact=1&site=courier.example"
    page = client.get(url)
    assert [a["href"] for a in _Elements(page.text).find("a", "hit-link")] == \
        [f"/documents/{news.homs}#s-0"]
    assert "начались <mark>новые столкновения</mark> в" in page.text
    assert 'name="exact" value="1" checked' in page.text


@pytest.mark.parametrize("query", ['"Хама', "(Хама", "Хама AND", "NOT"])
def test_a_malformed_query_is_400_with_the_parsers_message(client, query) -> None:
    page = client.get("/search", params={"q": query})
    assert page.status_code == 400
    [error] = re.findall(r'<p class="error">(.*?)</p>', page.text)
    assert error.startswith("query ")  # the parser's message names the query
    api = client.get("/api/search", params={"q": query})
    assert api.status_code == 400 and api.json()["error"] == \
        error.replace("&#39;", "'").replace("&#34;", '"')


def test_search_for_markup_finds_it_and_shows_it_as_text(client, news) -> None:
    page = client.get("/search", params={"q": "onerror"})
    assert page.status_code == 200 and len(_Elements(page.text).find("li", "hit")) == 1
    _no_live_markup(page.text)
    page = client.get("/search", params={"q": SCRIPT})  # the query itself is escaped too
    _no_live_markup(page.text)


def test_search_in_a_document_that_is_not_there(client) -> None:
    assert client.get("/api/search?q=Хама&doc=999").status_code == 404


def test_empty_search_page_is_the_form(client) -> None:
    page = client.get("/search")
    assert page.status_code == 200 and 'id="search-form"' in page.text
    assert not _Elements(page.text).find("ol", id="hits")
    assert client.get("/api/search").status_code == 400  # the API needs a query


# ---------------------------------------------------------------- glossary


def test_glossary_entries_and_audit(client, news) -> None:
    entries = client.get("/api/glossary").json()["entries"]
    assert [(e["ru"], e["en"], e["variants"]) for e in entries] == [
        ("Хама", "Hama", ["Khama"]), ("Хомс", "Homs", [])]
    audit = {a["ru"]: a for a in client.get("/api/glossary/audit").json()["audit"]}
    assert sorted(audit["Хама"]["renderings"], key=lambda r: r["en"]) == [
        {"en": "Hama", "count": 1}, {"en": "Khama", "count": 1}]
    assert not audit["Хама"]["consistent"] and audit["Хомс"]["consistent"]
    assert audit["Хомс"]["sentences"] == 2
    page = client.get("/glossary")
    links = [a["href"] for a in _Elements(page.text).find("a", "rendering")]
    assert "/glossary/sentences?ru=%D0%A5%D0%B0%D0%BC%D0%B0&en=Khama" in links
    rendering = client.get("/glossary/sentences?ru=%D0%A5%D0%B0%D0%BC%D0%B0&en=Khama")
    assert [a["href"] for a in _Elements(rendering.text).find("a", "sentence-link")] == \
        [f"/documents/{news.hama}#s-1"]
    api = client.get("/api/glossary/sentences", params={"ru": "Хомс", "en": "Homs"}).json()
    assert {(s["doc"], s["index"]) for s in api["sentences"]} == {(news.hama, 0),
                                                                 (news.homs, 0)}
    assert client.get("/api/glossary/sentences", params={"ru": "Дамаск", "en": "x"}
                      ).status_code == 404


def test_the_audit_follows_new_post_edits(client, news) -> None:
    client.get("/glossary")
    with Archive(news.path) as archive:
        archive.post_edit(news.hama, 1, "The city of Hama has been completely liberated.")
    audit = {a["ru"]: a for a in client.get("/api/glossary/audit").json()["audit"]}
    assert audit["Хама"]["renderings"] == [{"en": "Hama", "count": 2}]


# ---------------------------------------------------------------- quality


def test_quality_page_and_api(client, news) -> None:
    data = client.get("/api/quality").json()
    assert [(r["id"], r["scores"]) for r in data["runs"]] == [
        (1, {"BLEU": 31.4, "chrF2++": 55.2})]
    assert {(c["check"], c["severity"], c["count"]) for c in data["qa"]} == {
        ("glossary-missing", "error", 1), ("numbers", "warning", 1)}
    lowest = [(s["doc"], s["index"], s["score"]) for s in data["lowest_confidence"]]
    assert lowest[:3] == [(news.hama, 1, -1.92), (news.hama, 2, -1.1), (news.hama, 4, -0.61)]
    page = client.get("/quality")
    assert page.status_code == 200 and "BLEU 31.4, chrF2++ 55.2" in page.text
    assert '<td>glossary-missing</td><td>error</td><td class="num">1</td>' in page.text
    links = [a["href"] for a in _Elements(page.text).find("a", "sentence-link")]
    assert links[0] == f"/documents/{news.hama}#s-1"
    _no_live_markup(page.text)


# ---------------------------------------------------------------- the API is described


def test_openapi_lists_the_api(client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/documents", "/api/documents/{doc_id}",
            "/api/documents/{doc_id}/sentences/{index}",
            "/api/documents/{doc_id}/sentences/{index}/history", "/api/search",
            "/api/glossary", "/api/glossary/audit", "/api/quality"} <= set(schema["paths"])
    assert "post" in schema["paths"]["/api/documents/{doc_id}/sentences/{index}"]
    assert not any(p.startswith("/documents") for p in schema["paths"])  # pages are not API
    assert client.get("/docs").status_code == 404  # its UI would need a CDN


def test_static_files_are_served(client) -> None:
    script = client.get("/static/review.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert "innerHTML" not in script.text
    assert client.get("/static/style.css").status_code == 200
    icon = client.get("/favicon.ico")  # browsers ask for it: a 404 is a console error
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
