"""`ruen serve` in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

Each test starts the real `ruen serve` (a subprocess on 127.0.0.1, `--port 0`) on an archive
built with `ruen import` and `ruen qa --save` from Russian news sentences written here (glossary
names, a QA-flagged translation, markup that must stay text), and drives the pages with the
keyboard and the mouse as a reviewer would. Every page a test opens is watched: a console
error, an uncaught exception or `window.__pwned` being set fails the test.

The browser must be there: without /usr/bin/chromium these tests fail in CI (`CI` set) and
are skipped elsewhere. `RUEN_SCREENSHOTS=docs/screenshots python -m pytest
tests/web/test_browser.py` also writes the README's screenshots of the three main pages.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from corpus.errors import QueryError
from corpus.search import parse_query

try:
    from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright
except ImportError:  # reported by the `playwright` fixture: a failure in CI, a skip elsewhere
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
# The machine's closed network refuses Chromium's background connections (updates, sync,
# field trials); without these flags it keeps trying, and slows every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = os.environ.get("RUEN_SCREENSHOTS")
EDITOR = "Анна Петрова"  # --editor: stored with each post-edit and shown in the history
SERVE_START_SECONDS = 60
ACTIVE = re.compile(r"\bactive\b")
PWNED = "window.__pwned=1"

# ---------------------------------------------------------------- the archive under review

# One document per article: (title, paragraphs of (Russian, machine translation)).
HAMA = "Бои под Хамой"
HOMS = "Наступление на Хомс"
STATEMENT = "Заявление Командования военных операций"
ARTICLES: dict[str, list[list[tuple[str, str]]]] = {
    HAMA: [
        [("«Силы режима отступают к Хомсу», — заявил представитель Командования военных "
          "операций.",
          "\"Regime forces are retreating towards Homs,\" a spokesman for the Military "
          "Operations Command said."),
         ("Город Хама полностью освобождён после ожесточённых боёв.",
          "The city of Hama has been completely liberated after fierce fighting."),
         # a QA error (Cyrillic left in the English): the first `tr.flagged`
         ("Тысячи жителей Хамы покинули город, опасаясь новых авиаударов.",
          "Thousands of residents of Хамы left the city, fearing new air strikes.")],
        [("В сообщении агентства была строка <script>window.__pwned=1</script>, которую "
          "сайт не обработал.",
          "The agency's report contained the string <script>window.__pwned=1</script>, "
          "which the site had not processed."),
         ('Заголовок заметки выглядел так: "><img src=x onerror="window.__pwned=1">.',
          'The headline of the note looked like this: "><img src=x onerror="window.__pwned=1">.'),
         # a QA error (numbers differ): the second `tr.flagged`
         ("Революционные силы находятся в десяти километрах от Хамы.",
          "The revolutionary forces are 15 kilometres from Hama.")],
        [("Подкрепления направлены в район Хомса для обеспечения безопасности.",
          "Reinforcements have been sent to the Homs area to ensure security."),
         ("Коалиция взяла полный контроль над несколькими деревнями к северу от Хамы.",
          "The coalition took full control of several villages north of Hama.")],
    ],
    HOMS: [
        [("В четверг начались новые столкновения на подступах к Хомсу.",
          "New clashes began on the approaches to Homs on Thursday."),
         ("Представитель командования подтвердил освобождение трёх деревень.",
          "A command spokesman confirmed the liberation of three villages."),
         ("Министр обороны заявил о тактическом отступлении.",
          "The defence minister announced a tactical retreat."),
         ("Гражданское сопротивление укрепляет революцию.",
          "Civil resistance strengthens the revolution.")],
        [("Мы продолжаем двигаться на юг, к Дамаску.",
          "We continue to move south, towards Damascus."),
         ("Жители Хомса сообщают о перебоях со связью.",
          "Residents of Homs report communication outages.")],
    ],
    STATEMENT: [
        [("Командование военных операций объявило о начале второго этапа операции.",
          "The Military Operations Command announced the start of the second stage of the "
          "operation."),
         ("Бойцы вошли в Хаму с севера и востока.",
          "The fighters entered Hama from the north and the east.")],
    ],
}


def _jsonl(title: str, paragraphs: list[list[tuple[str, str]]]) -> str:
    rows, index = [], 0
    for number, paragraph in enumerate(paragraphs):
        for ru, en in paragraph:
            rows.append(json.dumps({"doc": title, "index": index, "paragraph": number,
                                    "title": title, "kind": "mt", "system": "opus-mt-ru-en",
                                    "ru": ru, "en": en, "score": -0.35 - index / 10},
                                   ensure_ascii=False))
            index += 1
    return "\n".join(rows) + "\n"


def _ruen(*args: str, env: dict[str, str]) -> str:
    ruen = shutil.which("ruen") or "ruen"
    done = subprocess.run([ruen, *args], env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    assert done.returncode == 0, f"ruen {' '.join(args)}: {done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Review:
    """The archive the tests review: its path, the environment to run `ruen` in, and each
    article's document id."""

    db: Path
    env: dict[str, str]
    docs: dict[str, int]

    def sentence(self, title: str, index: int) -> tuple[str, str]:
        return [pair for paragraph in ARTICLES[title] for pair in paragraph][index]


@pytest.fixture(scope="module")
def review_archive(tmp_path_factory: pytest.TempPathFactory) -> Review:
    """The three articles imported as machine translations, checked and flagged by `ruen qa`."""
    folder = tmp_path_factory.mktemp("review")
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "RUEN_GLOSSARY": str(folder / "user-glossary.tsv"),  # never the user's own
           "RUEN_CACHE": str(folder / "cache")}
    env.pop("RUEN_DB", None)
    db = folder / "archive.db"
    files = []
    for number, (title, paragraphs) in enumerate(ARTICLES.items(), start=1):
        path = folder / f"article{number}.jsonl"
        path.write_text(_jsonl(title, paragraphs), encoding="utf-8")
        files.append(str(path))
    stored = json.loads(_ruen("import", *files, "--db", str(db), "--json", env=env))
    docs = {title: outcome["doc"] for title, outcome in zip(ARTICLES, stored, strict=True)}
    _ruen("qa", "--db", str(db), "--save", env=env)
    return Review(db, env, docs)


# ---------------------------------------------------------------- the server


@dataclass
class Served:
    """A running `ruen serve`: its URL and everything it wrote on stderr so far."""

    url: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"ruen serve did not stop on SIGTERM; its log:\n{self.logged()}")
        return self.process.returncode

    def logged(self) -> str:
        return "".join(self.log)


def start_server(review: Review, *args: str) -> Served:
    """`ruen serve --port 0 ARGS` on the review archive; returns once it says where it listens."""
    ruen = shutil.which("ruen") or "ruen"
    process = subprocess.Popen(
        [ruen, "serve", "--db", str(review.db), "--port", "0", "--editor", EDITOR, *args],
        env=review.env, text=True, encoding="utf-8", stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served = Served("", process)
    listening = threading.Event()

    def drain() -> None:  # read stderr to the end, or the server blocks once the pipe is full
        assert process.stderr is not None
        for line in process.stderr:
            served.log.append(line)
            found = re.search(r"Serving .* at (http://[^/\s]+/)", line)
            if found and not served.url:
                served.url = found.group(1)
                listening.set()
        listening.set()

    threading.Thread(target=drain, daemon=True).start()
    if not listening.wait(SERVE_START_SECONDS) or not served.url:
        served.stop()
        pytest.fail(f"ruen serve never said where it listens; its log:\n{served.logged()}")
    return served


def _stopped_cleanly(served: Served) -> None:
    code = served.stop()
    assert code == 0, f"ruen serve exited {code} on SIGTERM; its log:\n{served.logged()}"
    assert "Traceback" not in served.logged(), served.logged()


@pytest.fixture(scope="module")
def served(review_archive: Review) -> Iterator[Served]:
    server = start_server(review_archive)
    yield server
    _stopped_cleanly(server)


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")  # its event loop must not outlive this module's tests
def playwright() -> Iterator[Playwright]:
    missing = None
    if sync_playwright is None:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    elif not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run in CI: {missing}")
        pytest.skip(missing)
    expect.set_options(timeout=15_000)  # a loaded 2-core machine: pages may take seconds
    with sync_playwright() as driver:
        yield driver


# Injected markup in the fixture sets window.__pwned: this trap (run before any page script,
# outside the page's CSP) logs a console error the moment it is set, on any page, even one the
# test has already left.
PWNED_TRAP = """
Object.defineProperty(window, "__pwned", {
  get() { return window.__pwnedValue; },
  set(value) {
    window.__pwnedValue = value;
    console.error("injected script ran: window.__pwned = " + value);
  },
});
"""


def launch_browser(playwright: Playwright, profile: Path) -> BrowserContext:
    """Chromium with a fresh profile (--user-data-dir): no cookie, no cache."""
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(15_000)
    context.add_init_script(PWNED_TRAP)
    return context


@pytest.fixture
def browser_context(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A browser of its own for each test."""
    context = launch_browser(playwright, tmp_path / "chromium-profile")
    yield context
    context.close()


@dataclass
class Tab:
    """A page whose console errors and uncaught exceptions are collected; `open` checks the
    status of each page it opens and that injected markup has not run."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)
    failing_urls: set[str] = field(default_factory=set)  # pages opened expecting an error

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + "/" + path.lstrip("/")

    def expect_failure(self, path: str) -> None:
        """Chromium logs every 4xx/5xx response as a console error; one the test asks for
        (a 404 page, the 409 of a conflicting save) is not a problem."""
        self.failing_urls.add(self.url(path))

    def open(self, path: str, status: int = 200) -> None:
        url = self.url(path)
        if status >= 400:
            self.expect_failure(path)
        response = self.page.goto(url)
        assert response is not None and response.status == status, (
            f"{url}: {response and response.status}, expected {status}")
        self.assert_inert()

    def assert_inert(self) -> None:
        assert self.page.evaluate("typeof window.__pwned") == "undefined", (
            f"injected markup ran on {self.page.url}")

    def watch(self, message) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if where in self.failing_urls and message.text.startswith("Failed to load resource"):
            return
        self.problems.append(f"console error on {self.page.url}: {message.text} ({where})")

    def assert_clean(self) -> None:
        self.assert_inert()
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def open_tab(browser_context: BrowserContext) -> Iterator[Callable[[str], Tab]]:
    """`open_tab(base_url)`: a new watched page. At the end of the test every page opened is
    checked: no console error, no uncaught exception, `window.__pwned` never set."""
    tabs: list[Tab] = []

    def new(base: str) -> Tab:
        page = browser_context.new_page()
        tab = Tab(page, base)
        page.on("console", tab.watch)
        page.on("pageerror", lambda error: tab.problems.append(
            f"uncaught exception on {page.url}: {error}"))
        tabs.append(tab)
        return tab

    yield new
    for tab in tabs:
        tab.assert_clean()


@pytest.fixture
def tab(open_tab: Callable[[str], Tab], served: Served) -> Tab:
    return open_tab(served.url)


def _screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def row(page: Page, index: int):
    return page.locator(f"#s-{index}")


def active_index(page: Page) -> int:
    return int(page.locator("#sentences tr.sentence.active").get_attribute("data-index"))


# ---------------------------------------------------------------- the watch itself


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[str]:
    """A static site on 127.0.0.1 (a port the OS picks) serving pages the test writes."""
    site = tmp_path / "site"
    site.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (site / "favicon.ico").write_bytes(b"")
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_watch_sees_console_errors_exceptions_and_injected_script(
        open_tab: Callable[[str], Tab], static_site: str, tmp_path: Path) -> None:
    # Without this, "no console error" on the app's pages could pass because nothing listens.
    site = tmp_path / "site"
    (site / "broken.js").write_text("console.error('boom'); undefinedFunction();\n")
    (site / "broken.html").write_text('<meta charset="utf-8"><p>Хама</p>'
                                      '<script src="broken.js"></script>\n',
                                      encoding="utf-8")
    (site / "pwned.js").write_text("window.__pwned = 1;\n")
    (site / "pwned.html").write_text('<script src="pwned.js"></script>\n')
    tab = open_tab(static_site)
    tab.open("broken.html")
    expect(tab.page.locator("p")).to_have_text("Хама")
    tab.page.wait_for_function("document.readyState === 'complete'")
    assert any("boom" in p for p in tab.problems), tab.problems
    assert any("undefinedFunction" in p for p in tab.problems), tab.problems
    tab.open("nothere.html", status=404)  # an expected failure is not a problem
    assert len(tab.problems) == 2, tab.problems
    with pytest.raises(AssertionError, match="injected markup ran"):
        tab.open("pwned.html")
    assert any("injected script ran" in p for p in tab.problems[2:]), tab.problems
    tab.open("broken.html")  # the trap logged it: leaving the page does not hide it
    assert sum("injected script ran" in p for p in tab.problems) == 1, tab.problems
    tab.problems.clear()


# ---------------------------------------------------------------- the pages


def test_documents_list_opens_a_document_side_by_side(tab: Tab, review_archive: Review) -> None:
    tab.open("/")
    expect(tab.page).to_have_url(re.compile(r"/documents$"))
    links = tab.page.locator("#documents tr.document a.document-link")
    expect(links).to_have_count(len(ARTICLES))
    for title in ARTICLES:
        expect(links.filter(has_text=title)).to_have_count(1)
    _screenshot(tab.page, "documents")

    links.filter(has_text=HAMA).click()
    doc = review_archive.docs[HAMA]
    expect(tab.page).to_have_url(re.compile(rf"/documents/{doc}$"))
    rows = tab.page.locator("#sentences tr.sentence")
    pairs = [pair for paragraph in ARTICLES[HAMA] for pair in paragraph]
    expect(rows).to_have_count(len(pairs))
    expect(rows.locator("td.ru")).to_have_text([ru for ru, _ in pairs])
    expect(rows.locator("td.en .text")).to_have_text([en for _, en in pairs])
    expect(rows.first).to_have_class(ACTIVE)  # the first row is active on load
    # a new paragraph's first row is marked
    starts = [int(i) for i in tab.page.locator("tr.sentence.paragraph-start").evaluate_all(
        "rows => rows.map(r => r.dataset.index)")]
    assert starts[1:] == [3, 6], starts
    # side by side: the Russian cell left of the English one, on the same line
    ru_box = rows.nth(1).locator("td.ru").bounding_box()
    en_box = rows.nth(1).locator("td.en").bounding_box()
    assert ru_box and en_box and ru_box["x"] + ru_box["width"] <= en_box["x"] + 1
    assert abs(ru_box["y"] - en_box["y"]) < 2

    # the first flagged sentence, opened in the editor: what the README's screenshot shows
    tab.page.keyboard.press("n")
    tab.page.keyboard.press("Enter")
    editor = rows.nth(2).locator("textarea.editor")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(pairs[2][1])
    tab.page.keyboard.press("ControlOrMeta+a")
    tab.page.keyboard.type(pairs[2][1].replace("Хамы", "Hama"))
    _screenshot(tab.page, "document")
    tab.page.keyboard.press("Escape")  # typed, then dropped: nothing stored
    expect(editor).to_have_count(0)
    expect(rows.nth(2).locator("td.en .text")).to_have_text(pairs[2][1])


def test_keyboard_edit_is_saved_persists_and_shows_in_history(
        tab: Tab, review_archive: Review) -> None:
    doc = review_archive.docs[HOMS]
    ru, old = review_archive.sentence(HOMS, 1)
    new = "A command spokesman confirmed that three villages had been liberated."
    page = tab.page
    tab.open(f"/documents/{doc}")
    expect(row(page, 0)).to_have_class(ACTIVE)
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(row(page, 2)).to_have_class(ACTIVE)
    page.keyboard.press("k")
    expect(row(page, 1)).to_have_class(ACTIVE)
    expect(row(page, 2)).not_to_have_class(ACTIVE)

    page.keyboard.press("Enter")
    editor = row(page, 1).locator("td.en textarea.editor")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(old)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(new)
    page.keyboard.press("Control+Enter")

    expect(editor).to_have_count(0)
    expect(row(page, 1).locator("td.en .text")).to_have_text(new)
    expect(page.locator("#status")).to_contain_text("Saved")
    expect(row(page, 2)).to_have_class(ACTIVE)  # saving moves on to the next sentence

    page.reload()
    expect(row(page, 1).locator("td.en .text")).to_have_text(new)
    expect(row(page, 1).locator("td.ru")).to_have_text(ru)
    page.keyboard.press("j")
    expect(row(page, 1)).to_have_class(ACTIVE)
    page.keyboard.press("h")
    entries = row(page, 1).locator(".history li.history-entry")
    expect(entries).to_have_count(2)
    edited = entries.filter(has_text=new)
    expect(edited).to_have_count(1)
    expect(edited).to_contain_text("post-edit")
    expect(edited).to_contain_text(EDITOR)
    expect(entries.filter(has_text=old)).to_contain_text("mt")


def test_escape_cancels_an_edit(tab: Tab, review_archive: Review) -> None:
    doc = review_archive.docs[HOMS]
    _, old = review_archive.sentence(HOMS, 3)
    page = tab.page
    tab.open(f"/documents/{doc}#s-3")
    expect(row(page, 3)).to_have_class(ACTIVE)  # the anchor's row is active on load
    row(page, 3).locator("td.en").click()
    editor = row(page, 3).locator("textarea.editor")
    expect(editor).to_be_focused()
    page.keyboard.type(" Not this.")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(row(page, 3).locator("td.en .text")).to_have_text(old)
    expect(row(page, 3)).to_have_class(ACTIVE)
    page.reload()
    expect(row(page, 3).locator("td.en .text")).to_have_text(old)
    row(page, 3).locator("button.history-toggle").click()
    expect(row(page, 3).locator(".history li.history-entry")).to_have_count(1)


def test_next_flagged_jumps_to_each_flagged_sentence(tab: Tab, review_archive: Review) -> None:
    page = tab.page
    tab.open(f"/documents/{review_archive.docs[HAMA]}")
    flagged = [int(i) for i in page.locator("tr.sentence.flagged").evaluate_all(
        "rows => rows.map(r => r.dataset.index)")]
    assert flagged == [2, 5], flagged  # the Cyrillic left in, the 10 that became 15
    expect(row(page, 2).locator("ul.flags")).to_contain_text("Хамы")
    page.keyboard.press("n")
    expect(row(page, 2)).to_have_class(ACTIVE)
    page.keyboard.press("n")
    expect(row(page, 5)).to_have_class(ACTIVE)
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(row(page, 3)).to_have_class(ACTIVE)
    page.locator("#next-flagged").click()
    expect(row(page, 5)).to_have_class(ACTIVE)
    page.keyboard.press("n")  # after the last one, the first again
    expect(row(page, 2)).to_have_class(ACTIVE)


def test_markup_in_the_archive_and_typed_in_the_editor_stays_text(
        tab: Tab, review_archive: Review) -> None:
    page = tab.page
    tab.open(f"/documents/{review_archive.docs[HAMA]}")
    for index in (3, 4):
        ru, en = review_archive.sentence(HAMA, index)
        expect(row(page, index).locator("td.ru")).to_have_text(ru)
        expect(row(page, index).locator("td.en .text")).to_have_text(en)
    expect(page.locator("#sentences img")).to_have_count(0)
    expect(page.locator("#sentences script")).to_have_count(0)

    # typed into the editor: saved, shown and listed in the history as text
    typed = 'The headline read: "><img src=x onerror="window.__pwned=1"> <b>bold</b>'
    doc = review_archive.docs[HOMS]
    tab.open(f"/documents/{doc}#s-4")
    page.keyboard.press("Enter")
    editor = row(page, 4).locator("textarea.editor")
    expect(editor).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(typed)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#status")).to_contain_text("Saved")
    expect(row(page, 4).locator("td.en .text")).to_have_text(typed)
    tab.assert_inert()
    page.keyboard.press("k")
    page.keyboard.press("h")
    expect(row(page, 4).locator("li.history-entry").filter(has_text=typed)).to_have_count(1)
    expect(page.locator("#sentences img, #sentences b")).to_have_count(0)
    tab.assert_inert()
    page.reload()
    expect(row(page, 4).locator("td.en .text")).to_have_text(typed)
    expect(page.locator("#sentences img, #sentences b")).to_have_count(0)

    # and in search results
    tab.open("/search?q=headline&lang=en")
    hits = page.locator("#hits li.hit")
    expect(hits).to_have_count(2)
    expect(hits.locator(".en").filter(has_text=PWNED)).to_have_count(2)
    expect(page.locator("#hits img")).to_have_count(0)


def test_search_highlights_and_a_hit_opens_its_sentence(tab: Tab, review_archive: Review) -> None:
    page = tab.page
    tab.open("/search")
    page.locator("#search-form input[name=q]").click()
    page.keyboard.type("Хама")
    page.keyboard.press("Enter")
    hits = page.locator("#hits li.hit")
    # every sentence naming Hama in any form: Хама, Хамы (3), Хаму
    expect(hits).to_have_count(5)
    marks = page.locator("#hits li.hit .ru mark").all_text_contents()
    assert len(marks) >= 5 and all(m.lower().startswith("хам") for m in marks), marks
    _screenshot(page, "search")

    doc = review_archive.docs[HAMA]
    link = page.locator(f'#hits a.hit-link[href="/documents/{doc}#s-6"]')
    expect(link).to_have_count(0)  # sentence 6 names Homs, not Hama
    link = page.locator(f'#hits a.hit-link[href="/documents/{doc}#s-7"]')
    link.click()
    expect(page).to_have_url(re.compile(rf"/documents/{doc}#s-7$"))
    expect(row(page, 7)).to_have_class(ACTIVE)
    expect(row(page, 7)).to_be_in_viewport()
    assert active_index(page) == 7

    # English only, by stem: "retreat" finds "retreating" and "retreat"
    tab.open("/search")
    page.locator("#search-form select[name=lang]").select_option("en")
    page.locator("#search-form input[name=q]").fill("retreat")
    page.keyboard.press("Enter")
    expect(hits).to_have_count(2)
    expect(hits.locator(".en mark")).to_have_text([re.compile(r"^retreat", re.I)] * 2)


def test_a_malformed_query_shows_the_parsers_message(tab: Tab) -> None:
    query = '"Хама'
    with pytest.raises(QueryError) as refused:
        parse_query(query)
    tab.open("/search?q=%22%D0%A5%D0%B0%D0%BC%D0%B0", status=400)
    expect(tab.page.locator("p.error")).to_contain_text(str(refused.value))
    expect(tab.page.locator("#search-form input[name=q]")).to_have_value(query)


def test_two_reviewers_saving_one_sentence_see_a_conflict(
        tab: Tab, open_tab: Callable[[str], Tab], served: Served, review_archive: Review
) -> None:
    doc = review_archive.docs[HOMS]
    first, second = tab, open_tab(served.url)
    for each in (first, second):
        each.open(f"/documents/{doc}#s-5")
        expect(row(each.page, 5)).to_have_class(ACTIVE)
    theirs = "Residents of Homs report that the phone network keeps failing."
    yours = "People in Homs say communications are down."
    second.expect_failure(f"/api/documents/{doc}/sentences/5")  # its 409
    for each, text in ((first, theirs), (second, yours)):
        each.page.bring_to_front()
        each.page.keyboard.press("Enter")
        expect(row(each.page, 5).locator("textarea.editor")).to_be_focused()
        each.page.keyboard.press("ControlOrMeta+a")
        each.page.keyboard.type(text)
        each.page.keyboard.press("Control+Enter")
    expect(first.page.locator("#status")).to_contain_text("Saved")
    conflict = row(second.page, 5).locator(".conflict")
    expect(conflict.locator(".theirs")).to_contain_text(theirs)  # after a label
    expect(conflict.locator(".yours")).to_contain_text(yours)
    expect(second.page.locator("#status")).not_to_contain_text("Saved")
    second.page.reload()  # nothing was overwritten
    expect(row(second.page, 5).locator("td.en .text")).to_have_text(theirs)


def test_two_servers_on_one_archive_credit_each_reviewer(
        tab: Tab, served: Served, review_archive: Review, playwright: Playwright,
        tmp_path: Path) -> None:
    # "Running it for a team" in the README: one server per reviewer on the same archive.
    # Each reviewer has a browser of their own (cookies are per host, not per port).
    doc = review_archive.docs[HOMS]
    _, machine = review_archive.sentence(HOMS, 0)
    other_editor = "Иван Смирнов"
    other = start_server(review_archive, "--editor", other_editor)
    second_browser = launch_browser(playwright, tmp_path / "second-profile")
    try:
        theirs = "New clashes broke out on the approaches to Homs on Thursday."
        mine = "Fresh fighting began outside Homs on Thursday."
        ivan = Tab(second_browser.new_page(), other.url)
        ivan.page.on("console", ivan.watch)
        ivan.expect_failure(f"/api/documents/{doc}/sentences/0")  # the 409 of his first try
        tab.open(f"/documents/{doc}")
        ivan.open(f"/documents/{doc}")
        for each, text in ((tab, mine), (ivan, theirs)):
            each.page.keyboard.press("Enter")
            expect(row(each.page, 0).locator("textarea.editor")).to_have_value(machine)
            each.page.keyboard.press("ControlOrMeta+a")
            each.page.keyboard.type(text)
            each.page.keyboard.press("Control+Enter")
            if each is tab:
                expect(tab.page.locator("#status")).to_contain_text("Saved")
        expect(row(ivan.page, 0).locator(".conflict .theirs")).to_contain_text(mine)
        ivan.page.reload()  # he reads the stored text, and saves his own over it knowingly
        expect(row(ivan.page, 0).locator("td.en .text")).to_have_text(mine)
        ivan.page.keyboard.press("Enter")
        ivan.page.keyboard.press("ControlOrMeta+a")
        ivan.page.keyboard.type(theirs)
        ivan.page.keyboard.press("Control+Enter")
        expect(ivan.page.locator("#status")).to_contain_text("Saved")

        tab.page.reload()
        expect(row(tab.page, 0).locator("td.en .text")).to_have_text(theirs)
        tab.page.keyboard.press("h")
        entries = row(tab.page, 0).locator("li.history-entry")
        expect(entries).to_have_count(3)
        expect(entries.filter(has_text=mine)).to_contain_text(EDITOR)
        expect(entries.filter(has_text=theirs)).to_contain_text(other_editor)
        ivan.assert_clean()
    finally:
        second_browser.close()
        _stopped_cleanly(other)


def test_each_reviewer_edits_under_their_own_name(
        open_tab: Callable[[str], Tab], review_archive: Review, playwright: Playwright,
        tmp_path: Path) -> None:
    # One server for the team (README "Running it for a team"): each reviewer's own token.
    anna, ivan = ("Анна Петрова", "anna-7d1c9e40"), ("Иван Смирнов", "ivan-52b8f0aa")
    server = start_server(review_archive, *(f"--reviewer={n}:{t}" for n, t in (anna, ivan)))
    second_browser = launch_browser(playwright, tmp_path / "second-profile")
    try:
        doc = review_archive.docs[STATEMENT]
        tabs = {anna[0]: open_tab(server.url), ivan[0]: Tab(second_browser.new_page(),
                                                            server.url)}
        tabs[ivan[0]].page.on("console", tabs[ivan[0]].watch)
        tabs[anna[0]].open(f"/documents/{doc}", status=401)  # no token, no archive
        texts = {anna[0]: "The fighters entered Hama from the north and east.",
                 ivan[0]: "Opposition fighters entered Hama from the north and the east."}
        for name, token in (anna, ivan):
            page = tabs[name].page
            page.goto(f"{server.url}documents/{doc}?token={token}")
            expect(page).to_have_url(f"{server.url}documents/{doc}")
            expect(page.locator("body")).to_contain_text(f"editing as {name}")
            page.keyboard.press("j")
            page.keyboard.press("Enter")
            expect(row(page, 1).locator("textarea.editor")).to_be_focused()
            page.keyboard.press("ControlOrMeta+a")
            page.keyboard.type(texts[name])
            page.keyboard.press("Control+Enter")
            expect(page.locator("#status")).to_contain_text("Saved")
            # Ivan opens the page after Anna's save: his is a new edit, not a conflict
        page = tabs[anna[0]].page
        page.reload()
        expect(row(page, 1).locator("td.en .text")).to_have_text(texts[ivan[0]])
        page.keyboard.press("j")
        page.keyboard.press("h")
        entries = row(page, 1).locator("li.history-entry")
        expect(entries).to_have_count(3)
        for name, text in texts.items():
            expect(entries.filter(has_text=text)).to_contain_text(name)
        tabs[ivan[0]].assert_clean()
    finally:
        second_browser.close()
        _stopped_cleanly(server)


def test_every_page_opens_without_errors(tab: Tab, review_archive: Review) -> None:
    for path in ("/documents", "/documents?sort=title", "/documents?errors=1",
                 f"/documents/{review_archive.docs[STATEMENT]}", "/search?q=Хомс",
                 "/search?q=Homs&lang=en", "/glossary", "/quality"):
        tab.open(path)
    tab.open("/documents?errors=1")  # only documents with a QA error: the Hama article
    expect(tab.page.locator("#documents a.document-link")).to_have_text([HAMA])
    tab.open("/documents/9999", status=404)


def test_a_document_translated_while_serving_appears_with_its_terms(
        open_tab: Callable[[str], Tab], review_archive: Review, tiny_model: Path,
        tmp_path: Path) -> None:
    # its own copy of the archive: the other tests count the documents of theirs
    db = tmp_path / "archive.db"
    with closing(sqlite3.connect(review_archive.db)) as source, \
            closing(sqlite3.connect(db)) as copy:
        source.backup(copy)
    review = Review(db, review_archive.env, review_archive.docs)
    server = start_server(review)
    try:
        tab = open_tab(server.url)
        tab.open("/documents")
        links = tab.page.locator("#documents a.document-link")
        expect(links).to_have_count(len(ARTICLES))
        article = tmp_path / "hama-homs.txt"
        article.write_text("Силы режима отступают от Хамы к Хомсу.\n\n"
                           "Командование военных операций сообщило о боях в Хаме.\n",
                           encoding="utf-8")
        _ruen("translate", str(article), "--model", str(tiny_model), "--db", str(db),
              env=review.env)
        tab.page.reload()  # the same server, no restart
        expect(links).to_have_count(len(ARTICLES) + 1)
        links.first.click()  # newest first
        rows = tab.page.locator("#sentences tr.sentence")
        expect(rows).to_have_count(2)
        terms = rows.locator("td.ru span.term")
        expect(terms).to_have_text(["Хамы", "Хомсу", "Командование военных операций", "Хаме"])
        # Whatever the random model wrote, each term is marked in both columns consistently: an
        # enforced target is marked in the English, a missing one listed with its target.
        target = {"Хамы": "Hama", "Хомсу": "Homs", "Хаме": "Hama",
                  "Командование военных операций": "Military Operations Command"}
        for each in rows.all():
            status = {"ok": [], "enforced": [], "missing": []}
            for term in each.locator("td.ru span.term").all():
                found = re.search(r"\bterm-(ok|enforced|missing)\b",
                                  term.get_attribute("class") or "")
                assert found, term.get_attribute("class")
                status[found.group(1)].append(target[term.inner_text()])
            enforced = each.locator("td.en .text span.term-enforced").all_inner_texts()
            assert sorted(enforced) == sorted(status["enforced"])
            missing = each.locator("ul.terms li.term-missing").all_inner_texts()
            assert [m.split(" → ")[1].removesuffix(": missing") for m in missing] == \
                status["missing"]
    finally:
        _stopped_cleanly(server)


def test_read_only_server_opens_no_editor(open_tab: Callable[[str], Tab],
                                          review_archive: Review) -> None:
    server = start_server(review_archive, "--read-only")
    try:
        tab = open_tab(server.url)
        page = tab.page
        tab.open(f"/documents/{review_archive.docs[STATEMENT]}")
        expect(row(page, 0)).to_have_class(ACTIVE)
        page.keyboard.press("Enter")
        row(page, 0).locator("td.en").click()
        page.keyboard.press("j")  # the keys after Enter still work: the page is not stuck
        expect(row(page, 1)).to_have_class(ACTIVE)
        expect(page.locator("textarea.editor")).to_have_count(0)
        _, en = review_archive.sentence(STATEMENT, 0)
        expect(row(page, 0).locator("td.en .text")).to_have_text(en)
    finally:
        _stopped_cleanly(server)


def test_token_is_asked_once_then_kept_in_a_cookie(open_tab: Callable[[str], Tab],
                                                    review_archive: Review) -> None:
    token = "review-7f3a9c2e"
    server = start_server(review_archive, "--token", token)
    try:
        tab = open_tab(server.url)
        tab.open("/documents", status=401)
        tab.page.goto(server.url + "documents?token=" + token)
        expect(tab.page).to_have_url(server.url + "documents")  # the token left the URL
        expect(tab.page.locator("#documents a.document-link")).to_have_count(len(ARTICLES))
        tab.open(f"/documents/{review_archive.docs[HAMA]}")
        expect(tab.page.locator("#sentences tr.sentence")).to_have_count(8)
    finally:
        _stopped_cleanly(server)
