from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.gallery.store import GalleryStore
from tests.postgres import postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _fresh_database(url: str) -> str:
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], GalleryStore]]:
    """Opens stores on one fresh database of each kind (call it again: another replica)."""
    url = _fresh_database(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    opened: list[GalleryStore] = []

    def open_store() -> GalleryStore:
        store = GalleryStore.open(sqlite_path=tmp_path / "gallery.sqlite", database_url=url)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()
