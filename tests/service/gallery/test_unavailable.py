"""A store whose database cannot be used says so, naming it, and recovers when the database does."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from service.domain_errors import UnavailableError
from service.gallery.backends import redact
from service.gallery.records import EnrolledSong
from service.gallery.store import open_store
from tests.postgres import PostgresServer, fresh_database

MODEL = "songid-multitask:4"


def _song(sha: str) -> list[EnrolledSong]:
    return [EnrolledSong(np.ones(4, dtype=np.float32), sha)]


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop(check=False)
    server.remove()


def test_postgresql_down_is_unavailable_and_a_restart_is_reconnected(server: PostgresServer) -> None:
    store = open_store(fresh_database(server.url))
    assert store.version() == 0
    server.stop()
    with pytest.raises(UnavailableError, match=f"127.0.0.1:{server.port}.*cannot be reached") as down:
        store.create("ann", "Ann", MODEL, _song("a"))
    assert down.value.retry_after_s is not None and down.value.retry_after_s >= 1
    server.start()
    assert store.create("ann", "Ann", MODEL, _song("a")).version == 1  # connected again by itself
    server.stop()
    server.start()  # a restart between two writes: the first one after it is not refused
    assert store.create("bo", "Bo", MODEL, _song("b")).version == 2
    store.close()


def test_a_store_constructed_while_postgresql_is_down_connects_later(server: PostgresServer) -> None:
    url = fresh_database(server.url)
    server.stop()
    store = open_store(url)  # no connection yet: nothing fails
    with pytest.raises(UnavailableError):
        store.version()
    server.start()
    assert store.version() == 0
    store.close()


def test_a_postgresql_url_is_shown_without_its_password() -> None:
    assert redact("postgresql://songid:s3cret@db:5432/g") == "postgresql://songid:***@db:5432/g"
    assert redact("postgresql://songid@db/g") == "postgresql://songid@db/g"
