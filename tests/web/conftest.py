"""The archive the HTTP tests of `ruen serve` review (tests/web/test_app_*.py): Russian news
stored as `ruen translate` stores it (sentences, paragraphs, two systems, glossary terms with
their statuses, QA flags, model confidence, site and publication date), including sentences
that carry markup which must stay text; and a FastAPI TestClient on the app over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus.store import Archive
from corpus.types import Document, Flag, SentencePair, System, TermStatus
from translate.glossary.core import Glossary
from translate.glossary.entries import Entry

OPUS = System("Helsinki-NLP/opus-mt-ru-en", "abc123", "ctranslate2", {"beam": 4})
OTHER = System("local/marian-news", "", "transformers", {"beam": 2})
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
EDITOR = "Анна Петрова"
GLOSSARY = Glossary([Entry(ru="Хама", en="Hama", variants=("Khama",)),
                     Entry(ru="Хомс", en="Homs")])


def _term(ru_sentence: str, surface: str, en: str, status: str) -> TermStatus:
    start = ru_sentence.index(surface)
    return TermStatus(surface, en, status, start, start + len(surface))  # type: ignore[arg-type]


# (Russian, English, flags, terms (surface, target, status), score); paragraphs are lists
HAMA = [
    [("«Силы режима отступают к Хомсу», — заявил представитель командования.",
      "\"Regime forces are retreating towards Homs,\" a command spokesman said.", (),
      [("Хомсу", "Homs", "ok")], -0.31),
     ("Город Хама полностью освобождён после ожесточённых боёв.",
      "The city of Khama has been completely liberated after fierce fighting.",
      (Flag("glossary-missing", "error", "Хама: Hama is not in the translation"),),
      [("Хама", "Hama", "missing")], -1.92),
     ("Тысячи жителей покинули город за 3 дня.",
      "Thousands of residents left the city in 5 days.",
      (Flag("numbers", "warning", "3 in the source, 5 in the translation"),), [], -1.10)],
    [(f"В сводке была строка {SCRIPT}, которую сайт не обработал.",
      f"The report contained the string {SCRIPT}, which the site had not processed.", (),
      [], -0.52),
     (f"Заголовок выглядел так: {IMG}.", f"The headline looked like this: {IMG}.", (), [],
      -0.61),
     ("Бойцы вошли в Хаму с севера.", "The fighters entered Hama from the north.", (),
      [("Хаму", "Hama", "enforced")], -0.44)],
]
HOMS = [
    [("В четверг начались новые столкновения в провинции Хомс.",
      "New clashes began in Homs province on Thursday.", (), [("Хомс", "Homs", "ok")], -0.25),
     ("Министр обороны заявил о тактическом отступлении.",
      "The defence minister announced a tactical retreat.", (), [], -0.40)],
]


@dataclass(frozen=True)
class NewsArchive:
    path: Path
    hama: int  # document ids
    homs: int
    filler: list[int]  # dated documents from another site, for paging


def _pairs(paragraphs: list) -> tuple[str, list[SentencePair]]:
    text, pairs, index = "", [], 0
    for number, paragraph in enumerate(paragraphs):
        if number:
            text += "\n\n"
        for position, (ru, en, flags, terms, score) in enumerate(paragraph):
            if position:
                text += " "
            start = len(text)
            text += ru
            pairs.append(SentencePair(
                None, index, number, ru, en, start=start, end=len(text), flags=tuple(flags),
                terms=tuple(_term(ru, *t) for t in terms), score=score))
            index += 1
    return text, pairs


def build_news_archive(path: Path, filler: int = 55) -> NewsArchive:
    with Archive(path) as archive:
        text, pairs = _pairs(HAMA)
        hama = archive.save_document(Document(
            "hama.html", f"Бои под Хамой {SCRIPT}", text,
            metadata={"site": "Вестник Востока", "host": "vestnik-vostoka.example",
                      "url": "https://vestnik-vostoka.example/hama", "published": "2026-11-28"}),
            pairs, OPUS)
        text, pairs = _pairs(HOMS)
        homs = archive.save_document(Document(
            "homs.html", "Наступление на Хомс", text,
            metadata={"site": "Сирийский курьер", "host": "courier.example",
                      "published": "2026-10-02"}), pairs, OTHER)
        others = []
        for number in range(filler):
            ru = f"Сводка номер {number + 1}: в районе Дамаска спокойно."
            en = f"Report number {number + 1}: it is calm around Damascus."
            others.append(archive.save_document(
                Document(f"report-{number + 1}.txt", f"Сводка {number + 1:02d}", ru,
                         metadata={"site": "Агентство Юг", "host": "yug.example",
                                   "published": f"2026-09-{number % 28 + 1:02d}"}),
                [SentencePair(None, 0, 0, ru, en, start=0, end=len(ru), score=-0.2)], OPUS))
        run = {"hypothesis": "hyp.txt", "references": ["ref.txt"], "sentences": 3,
               "scores": [{"name": "BLEU", "score": 31.4, "detail": "", "signature": "b"},
                          {"name": "chrF2++", "score": 55.2, "detail": "", "signature": "c"}]}
        archive.add_eval_run("nrefs:1|case:mixed|tok:13a", run)
    return NewsArchive(path, hama, homs, others)


@pytest.fixture
def news(tmp_path: Path) -> NewsArchive:
    return build_news_archive(tmp_path / "news.db")


@pytest.fixture
def make_client(news: NewsArchive) -> Iterator[Callable[..., object]]:
    """`make_client(read_only=False, token=None, reviewers=None)`: a TestClient on `ruen
    serve`'s app over the news archive, editing as EDITOR with GLOSSARY in effect."""
    from fastapi.testclient import TestClient

    from web.app import ServeSettings, create_app

    clients = []

    def make(*, read_only: bool = False, token: str | None = None,
             reviewers: dict[str, str] | None = None,
             raise_server_exceptions: bool = True) -> TestClient:
        app = create_app(ServeSettings(db=news.path, editor=EDITOR, read_only=read_only,
                                       token=token, glossary=GLOSSARY,
                                       reviewers=reviewers or {}))
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., object]) -> object:
    return make_client()

