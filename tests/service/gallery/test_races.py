"""Enrolments and deletions of one id raced from many threads: each is answered with what it did."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from frontend.artifact import load_artifact
from service.domain_errors import ConflictError, NotFoundError
from service.gallery.gallery import Gallery
from service.gallery.records import EnrolledSong
from service.gallery.store import GalleryStore
from tests.service.samples import make_artifact

THREADS = 10
ROUNDS = 40


def test_an_enrolment_raced_by_deletions_is_answered_from_its_own_transaction(
    store_factory: Callable[[], GalleryStore], tmp_path: Path
) -> None:
    artifact = load_artifact(make_artifact(tmp_path / "models", embedding=True, centroids=True))
    assert artifact.centroids is not None
    gallery = Gallery(store_factory(), artifact, poll_s=3600.0)
    song = [EnrolledSong(artifact.centroids.centre + 1.0, "a" * 64)]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(enrols: bool) -> None:
        start.wait()
        for _ in range(ROUNDS):
            try:
                if enrols:
                    record = gallery.enrol("raced", "Raced", song)
                    outcome = "enrolled" if (record.artist_id, record.n_songs) == ("raced", 1) else "wrong"
                else:
                    gallery.delete("raced")
                    outcome = "deleted"
            except ConflictError:
                outcome = "taken"
            except NotFoundError:
                outcome = "enrol found nothing" if enrols else "nothing to delete"
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=work, args=(k % 2 == 0,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["enrol found nothing"] == 0 and outcomes["wrong"] == 0, outcomes
    assert outcomes["enrolled"] >= 1 and outcomes["deleted"] >= 1
    assert outcomes["enrolled"] - outcomes["deleted"] in (0, 1)  # each deletion removed one enrolment
    index = gallery.index()  # this replica's index holds the store's last word
    enrolled = outcomes["enrolled"] - outcomes["deleted"] == 1
    assert ("raced" in index.ids) == enrolled and index.version == gallery.store.version()
