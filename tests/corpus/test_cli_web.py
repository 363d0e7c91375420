"""`ruen translate` on URLs, feeds and documents through the real CLI, against a web server on
127.0.0.1 started by the test: what is stored (text and metadata), what is filtered, what a
second run of the same feed does, and one `error:` line per bad input."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from corpus.store import MIGRATIONS, SCHEMA_VERSION, Archive
from translate.cli import app

NEWS = (Path(__file__).parent / "pages" / "news.html").read_text(encoding="utf-8")
NAV = ("<header><nav><ul><li><a href='/politics/'>Политика</a></li><li><a href='/economy/'>"
       "Экономика</a></li><li><a href='/sport/'>Спорт</a></li></ul></nav></header>"
       "<div class='cookie-notice'>Мы используем файлы cookie. <button>Закрыть</button></div>")
FOOTER = ("<aside><h3>Читайте также</h3><ul><li><a href='/x'>Цены на нефть выросли на фоне "
          "новостей</a></li></ul></aside><footer><p>© 2026 Вестник Востока. Все права "
          "защищены.</p></footer>")


def _article(title: str, published: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:title' content='{title}'>"
            "<meta property='og:site_name' content='Вестник Востока'>"
            f"<meta property='article:published_time' content='{published}T10:00:00+03:00'>"
            f"<meta name='author' content='Ирина Соколова'></head><body>{NAV}<main><article>"
            f"<h1>{title}</h1>{body}</article></main>{FOOTER}</body></html>")


ITEMS = {
    "/news/1.html": _article("Бои под Алеппо продолжаются", "2026-11-27",
                             "Бои на подступах к Алеппо продолжаются третьи сутки подряд.",
                             "Обе стороны сообщают о потерях среди мирного населения города."),
    "/news/3.html": _article("Совбез ООН соберется на заседание", "2026-11-29",
                             "Совет Безопасности ООН соберется на экстренное заседание по Сирии.",
                             "Об этом сообщили дипломатические источники в Нью-Йорке вечером."),
}
FULL_TEXT = ("Отряды сирийской оппозиции в четверг вечером вошли в центр Хамы, четвертого по "
             "величине города страны, после трех дней ожесточенных боев на северных окраинах. "
             "Представитель Командования военных операций заявил, что город полностью "
             "освобожден. По его словам, правительственные войска отступили на юг, в сторону "
             "Хомса, оставив технику и склады с боеприпасами. Министерство обороны Сирии "
             "назвало отход тактической передислокацией. Независимого подтверждения этим данным "
             "пока нет. Жители рассказали, что утром в центр вышли сотни людей.")


def _rss(base: str, items: list[str]) -> str:
    entries = {
        "/news/1.html": f"<item><title>Бои под Алеппо продолжаются</title><link>{base}/news/1"
                        ".html</link><pubDate>Fri, 27 Nov 2026 10:00:00 +0300</pubDate>"
                        "<description>Бои продолжаются третьи сутки.</description></item>",
        "/news/2.html": f"<item><title>Повстанцы вошли в Хаму</title><link>{base}/news/2.html"
                        "</link><pubDate>Sat, 28 Nov 2026 09:15:00 +0300</pubDate>"
                        "<author>desk@vestnik.example (Ирина Соколова)</author><description>"
                        "Повстанцы вошли в Хаму.</description><content:encoded><![CDATA["
                        f"<p>{FULL_TEXT}</p>]]></content:encoded></item>",
        "/news/3.html": f"<item><title>Совбез ООН соберется на заседание</title><link>{base}"
                        "/news/3.html</link><pubDate>Sun, 29 Nov 2026 18:00:00 +0300</pubDate>"
                        "<description>Экстренное заседание.</description></item>",
    }
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:content='
            '"http://purl.org/rss/1.0/modules/content/"><channel><title>Вестник Востока: '
            f'Сирия</title><link>{base}/</link><language>ru</language>'
            + "".join(entries[i] for i in items) + "</channel></rss>")


def _rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _translate(runner, model: Path, *args: str):
    return runner.invoke(app, ["translate", *args, "--model", str(model), "--format", "jsonl",
                               "--beam", "1"])


def _listed(runner) -> list[dict]:
    result = runner.invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_news_url_is_translated_without_its_boilerplate_and_filterable(
        web, tiny_model: Path, db: Path, runner) -> None:
    url = web.page("/syria/2026/11/28/hama.html", NEWS)
    result = _translate(runner, tiny_model, url)
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    ru = " ".join(r["ru"] for r in rows)
    assert rows[0]["ru"] == "Повстанцы вошли в Хаму после трех дней боев"
    assert "Хассан Абдуль Гани" in ru and "трассой М5" in ru
    for boilerplate in ("Экономика", "Закрыть", "В рубрику", "Читайте также", "Наконец-то",
                        "Все права защищены"):
        assert boilerplate not in ru
    assert rows[0]["document"] == {
        "title": "Повстанцы вошли в Хаму после трех дней боев", "author": "Ирина Соколова",
        "published": "2026-11-28", "site": "Вестник Востока", "url": url, "language": "ru"}
    [listed] = _listed(runner)
    assert (listed["url"], listed["host"], listed["published"], listed["site"]) == (
        url, "127.0.0.1", "2026-11-28", "Вестник Востока")
    # the stored text is what start/end index
    shown = runner.invoke(app, ["show", "1", "--text"]).stdout
    assert all(shown[r["start"]:r["end"]] == r["ru"] for r in rows)

    def found(*options: str) -> int:
        hits = runner.invoke(app, ["search", "Хама", "--lang", "ru", "--json", *options])
        assert hits.exit_code == 0, hits.output
        return len(json.loads(hits.stdout))

    assert found() > 0
    assert found("--since", "2026-11-28", "--until", "2026-11-28") == found()
    assert found("--until", "2026-11-27") == 0 and found("--since", "2026-11-29") == 0
    assert found("--site", "вестник востока") == found("--site", "127.0.0.1") == found()
    assert found("--site", "ria.ru") == 0


def test_a_url_in_the_archive_is_not_fetched_again_unless_asked(
        web, tiny_model: Path, db: Path, runner) -> None:
    url = web.page("/news/1.html", ITEMS["/news/1.html"])
    assert _translate(runner, tiny_model, url).exit_code == 0
    again = _translate(runner, tiny_model, url)
    assert again.exit_code == 0 and again.stdout == ""
    assert "Already in the archive" in again.stderr and "(document 1)" in again.stderr
    assert web.requests == ["/news/1.html"]
    refetched = _translate(runner, tiny_model, url, "--refetch")
    assert refetched.exit_code == 0 and _rows(refetched.stdout)
    assert web.requests == ["/news/1.html"] * 2


def test_a_feed_run_twice_translates_only_its_new_items(
        web, tiny_model: Path, db: Path, runner) -> None:
    for path, page in ITEMS.items():
        web.page(path, page)
    feed = web.page("/rss.xml", _rss(web.base, ["/news/2.html", "/news/1.html"]),
                    content_type="application/rss+xml; charset=utf-8")
    first = _translate(runner, tiny_model, feed)
    assert first.exit_code == 0, first.output
    # the item with its full text in the feed is not fetched; the teaser's link is
    assert web.requests == ["/rss.xml", "/news/1.html"]
    docs = {d["url"]: d for d in _listed(runner)}
    assert set(docs) == {f"{web.base}/news/2.html", f"{web.base}/news/1.html"}
    full = docs[f"{web.base}/news/2.html"]
    assert (full["title"], full["published"], full["author"]) == (
        "Повстанцы вошли в Хаму", "2026-11-28", "desk@vestnik.example (Ирина Соколова)")
    assert docs[f"{web.base}/news/1.html"]["published"] == "2026-11-27"

    web.routes["/rss.xml"].body = _rss(web.base, ["/news/3.html", "/news/2.html",
                                                  "/news/1.html"]).encode()
    second = _translate(runner, tiny_model, feed)
    assert second.exit_code == 0, second.output
    assert web.requests[2:] == ["/rss.xml", "/news/3.html"]
    rows = _rows(second.stdout)
    assert rows and all(r["document"]["url"] == f"{web.base}/news/3.html" for r in rows)
    assert rows[0]["ru"] == "Совбез ООН соберется на заседание"
    assert len(_listed(runner)) == 3


def test_an_atom_file_feed(tmp_path: Path, tiny_model: Path, db: Path, runner) -> None:
    atom = tmp_path / "syria.atom"
    atom.write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Вестник Востока</title><id>urn:vestnik</id><updated>2026-11-28T09:15:00Z"
        "</updated><entry><title>Повстанцы вошли в Хаму</title><id>urn:1</id>"
        "<link href='https://vestnik-vostoka.example/2.html'/><updated>2026-11-28T09:15:00+03:00"
        f"</updated><content type='html'>&lt;p&gt;{FULL_TEXT}&lt;/p&gt;</content></entry>"
        "</feed>", encoding="utf-8")
    first = _translate(runner, tiny_model, str(atom))
    assert first.exit_code == 0, first.output
    assert _rows(first.stdout)[0]["document"]["published"] == "2026-11-28"
    second = _translate(runner, tiny_model, str(atom))
    assert second.exit_code == 0 and second.stdout == ""  # nothing new, nothing fetched
    assert "Already in the archive" in second.stderr


def test_every_bad_input_is_one_error_line_and_the_good_ones_are_stored(
        web, tiny_model: Path, db: Path, runner, tmp_path: Path) -> None:
    good = web.page("/news/1.html", ITEMS["/news/1.html"])
    web.page("/broken", "<p>Ошибка</p>", status=500)
    web.redirect("/loop", "/loop")
    web.page("/not-a-feed.xml", "это не XML {", content_type="application/rss+xml")
    web.page("/feed.xml", _rss(web.base, ["/news/3.html", "/news/1.html"]).replace(
        "/news/3.html", "/gone.html"), content_type="application/rss+xml")
    web.page("/photo.jpg", b"\xff\xd8\xff\xe0" + bytes(64), content_type="image/jpeg")
    renamed = tmp_path / "report.docx"
    renamed.write_bytes(b"PK\x03\x04" + bytes(40))
    fake_pdf = tmp_path / "report.pdf"
    fake_pdf.write_text("Просто текст.", encoding="utf-8")
    local = tmp_path / "good.txt"
    local.write_text("Город Хама освобожден.", encoding="utf-8")
    bad = [web.url("/broken"), web.url("/loop"), web.url("/not-a-feed.xml"),
           web.url("/photo.jpg"), str(renamed), str(fake_pdf)]
    result = _translate(runner, tiny_model, good, *bad, web.url("/feed.xml"), str(local))
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    expected = [*bad, web.url("/gone.html")]  # and the feed's item with a dead link
    assert len(errors) == len(expected)
    for name in expected:
        assert sum(e.startswith(f"error: {name}: ") for e in errors) == 1, (name, errors)
    paths = [d["path"] for d in _listed(runner)]
    assert paths == [good, str(local)]  # the feed's good item is the same URL: not twice


def test_an_archive_of_schema_2_is_upgraded_in_place(tmp_path: Path, runner) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        for migration in MIGRATIONS[:2]:
            migration(old)
        old.execute("PRAGMA user_version = 2")
        old.execute("INSERT INTO documents (path, title, sha256, text, metadata, created)"
                    " VALUES ('a.txt', 'Хама', 'x', 'Хама освобождена.', '{\"encoding\": "
                    "\"utf-8\"}', '2026-11-20T10:00:00+00:00')")
    with Archive(path) as archive:
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        [info] = archive.documents()
        assert (info.title, info.url, info.published) == ("Хама", None, None)
        indexes = {r[0] for r in archive.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"documents_url", "documents_dated", "documents_host"} <= indexes


def test_html_all_through_the_cli(web, tiny_model: Path, db: Path, runner) -> None:
    url = web.page("/syria/hama.html", NEWS)
    rows = _rows(_translate(runner, tiny_model, url, "--html", "all").stdout)
    assert any(r["ru"] == "Экономика" for r in rows)  # what --html all is for: everything
