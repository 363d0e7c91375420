"""ArchivePool (for the web app): many requests at once on one archive, each with an archive
of its own for the request; on PostgreSQL over a few pooled connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from corpus.errors import ArchiveError
from corpus.pool import ArchivePool
from corpus.testing import rows
from corpus.types import Document, SentencePair, System

SYSTEM = System("tiny")


def _request(pool: ArchivePool, n: int) -> tuple[int, list[str]]:
    """What a request of the web app does: store a document, then read it back."""
    text = f"Город номер {n} освобожден."
    with pool.archive() as archive:
        doc = archive.save_document(
            Document(path=f"{n}.txt", title=str(n), text=text),
            [SentencePair(doc=None, index=0, paragraph=0, ru=text, en=f"Town {n} is free.",
                          start=0, end=len(text))], SYSTEM)
        return doc, [p.en for p in archive.pairs(doc)]


def test_twenty_requests_on_four_connections_store_everything(db: Path | str) -> None:
    with ArchivePool(db, size=4) as pool, ThreadPoolExecutor(8) as threads:
        done = list(threads.map(lambda n: _request(pool, n), range(20)))
        if pool._pool is not None:  # PostgreSQL: never more connections than the pool's size
            assert pool._pool.get_stats()["pool_size"] <= 4
    assert sorted(d for d, _ in done) == list(range(1, 21))
    assert all(en == [f"Town {n} is free."] for n, (_, en) in enumerate(done))
    assert rows(db, "SELECT count(*), count(DISTINCT sha256) FROM documents") == [(20, 20)]


def test_a_failed_request_rolls_back_and_the_pool_goes_on(db: Path | str) -> None:
    with ArchivePool(db, size=1) as pool:
        with pytest.raises(RuntimeError), pool.archive() as archive, archive.transaction():
            archive.db.execute("INSERT INTO systems (model, revision, backend, settings)"
                               " VALUES ('x', '', '', '{}')")
            raise RuntimeError("the request failed")
        assert _request(pool, 1)[1] == ["Town 1 is free."]
    assert rows(db, "SELECT model FROM systems") == [("tiny",)]


def test_a_read_only_pool_needs_an_archive(db: Path | str) -> None:
    with pytest.raises(ArchiveError, match="no archive here"):
        ArchivePool(db, readonly=True)
