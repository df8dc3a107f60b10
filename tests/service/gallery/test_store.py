"""The gallery store, the same suite on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from service.domain_errors import ConflictError
from service.gallery.dialects import MIGRATIONS
from service.gallery.records import ArtistExistsError, ArtistNotFoundError, EnrolledSong
from service.gallery.store import GalleryStore

Factory = Callable[[], GalleryStore]
MODEL = "songid-multitask:4"


def _song(value: float, sha: str, dim: int = 4) -> EnrolledSong:
    return EnrolledSong(np.full(dim, value, dtype=np.float32), sha, reference=f"/music/{sha}.flac")


def test_an_enrolment_is_stored_with_its_centroid_and_survives_reopening(store_factory: Factory) -> None:
    store = store_factory()
    record = store.create("ann", "Ann", MODEL, [_song(1.0, "a"), _song(3.0, "b")]).record
    assert record is not None and record.n_songs == 2 and record.model == MODEL
    np.testing.assert_allclose(record.centroid, np.full(4, 2.0))
    store.close()
    again = store_factory().get("ann")
    assert again.name == "Ann" and again.n_songs == 2
    np.testing.assert_allclose(again.centroid, np.full(4, 2.0))


def test_adding_songs_updates_the_centroid_and_skips_a_file_already_enrolled(store_factory: Factory) -> None:
    store = store_factory()
    store.create("ann", "Ann", MODEL, [_song(1.0, "a")])
    change = store.add_songs("ann", MODEL, [_song(1.0, "a"), _song(4.0, "c")])
    record = change.record
    assert change.added == 1 and record is not None and record.n_songs == 2
    assert change.version == store.version()
    np.testing.assert_allclose(record.centroid, np.full(4, 2.5))


def test_a_taken_id_and_a_missing_artist_are_refused_and_change_nothing(store_factory: Factory) -> None:
    store = store_factory()
    store.create("ann", "Ann", MODEL, [_song(1.0, "a")])
    version = store.version()
    with pytest.raises(ArtistExistsError, match="'ann' is already enrolled"):
        store.create("ann", "Other", MODEL, [_song(9.0, "z")])
    with pytest.raises(ArtistNotFoundError, match="no enrolled artist 'bo'"):
        store.add_songs("bo", MODEL, [_song(1.0, "x")])
    with pytest.raises(ArtistNotFoundError):
        store.delete("bo")
    assert store.version() == version
    assert store.get("ann").name == "Ann" and store.get("ann").n_songs == 1


def test_a_failed_enrolment_leaves_nothing_half_written(store_factory: Factory) -> None:
    store = store_factory()
    broken = EnrolledSong(np.ones(4, dtype=np.float32), None, None)  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - the database's own NOT NULL error
        store.create("ann", "Ann", MODEL, [_song(1.0, "a"), broken])
    with pytest.raises(ArtistNotFoundError):
        store.get("ann")
    assert store.page(offset=0, limit=10) == ([], 0)


def test_another_models_embeddings_are_stale_and_cannot_grow(store_factory: Factory) -> None:
    store = store_factory()
    store.create("ann", "Ann", "songid-multitask:3", [_song(1.0, "a")])
    store.create("bo", "Bo", MODEL, [_song(2.0, "b")])
    assert [r.artist_id for r in store.for_model(MODEL)] == ["bo"]
    assert store.stale(MODEL) == 1
    with pytest.raises(ConflictError, match="enrolled with model songid-multitask:3"):
        store.add_songs("ann", MODEL, [_song(1.0, "c")])


def test_pages_deletion_and_the_change_counter(store_factory: Factory) -> None:
    store = store_factory()
    start = store.version()
    for k in range(5):
        store.create(f"a{k}", f"A{k}", MODEL, [_song(float(k), f"s{k}")])
    page, total = store.page(offset=2, limit=2)
    assert total == 5 and [r.artist_id for r in page] == ["a2", "a3"]
    store.delete("a2")
    assert store.page(offset=0, limit=10)[1] == 4
    assert store.version() == start + 6


def test_a_replica_sees_another_ones_enrolment(store_factory: Factory) -> None:
    first, second = store_factory(), store_factory()
    before = second.version()
    first.create("ann", "Ann", MODEL, [_song(1.0, "a")])
    assert second.version() > before
    assert [r.artist_id for r in second.for_model(MODEL)] == ["ann"]


def test_migrations_are_applied_once(store_factory: Factory) -> None:
    assert store_factory().schema_version == len(MIGRATIONS)
    assert store_factory().schema_version == len(MIGRATIONS)  # reopened: nothing applied twice


def test_worker_threads_enrol_concurrently(store_factory: Factory) -> None:
    store = store_factory()
    errors: list[BaseException] = []

    def enrol(k: int) -> None:
        try:
            store.create(f"t{k}", f"T{k}", MODEL, [_song(float(k), f"s{k}"), _song(1.0, f"x{k}")])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=enrol, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.page(offset=0, limit=100)[1] == 8


def test_re_embedding_replaces_an_artists_songs_at_once(store_factory: Factory) -> None:
    store = store_factory()
    store.create("ann", "Ann", "songid-multitask:3", [_song(1.0, "a"), _song(3.0, "b")])
    assert store.song_hashes("ann") == {"a", "b"} and store.song_hashes("nobody") == set()
    assert store.stale_artists(MODEL) == [("ann", ["/music/a.flac", "/music/b.flac"])]
    record = store.reembed("ann", MODEL, [_song(5.0, "a"), _song(7.0, "b")]).record
    assert record is not None and record.model == MODEL and record.n_songs == 2
    np.testing.assert_allclose(record.centroid, np.full(4, 6.0))
    assert store.stale_artists(MODEL) == [] and store.stale(MODEL) == 0
