from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.gallery.store import GalleryStore, open_store, sqlite_url
from tests.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], GalleryStore]]:
    """Opens stores on one fresh database of each kind (call it again: another replica)."""
    url = fresh_database(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    opened: list[GalleryStore] = []

    def open_another() -> GalleryStore:
        store = open_store(url or sqlite_url(tmp_path / "gallery.sqlite"))
        opened.append(store)
        return store

    yield open_another
    for store in opened:
        store.close()
