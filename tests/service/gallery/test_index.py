"""Ranking trained and enrolled artists on one scale."""

from __future__ import annotations

import numpy as np

from frontend.centroids import ArtistCentroids
from service.gallery.index import GalleryIndex


def _centroids() -> ArtistCentroids:
    means = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return ArtistCentroids(np.zeros(3), ["t1", "t2"], means, [3, 3], 0.5)


def test_trained_and_enrolled_artists_rank_together_by_cosine() -> None:
    enrolled = (["e1"], ["Enrolled One"], np.array([[0.0, 0.0, 2.0]], dtype=np.float32))
    index = GalleryIndex(_centroids(), {"t1": "Trained One"}, enrolled, version=7)
    assert (index.n_trained, index.n_enrolled, index.version) == (2, 1, 7)
    top = index.match(np.array([0.1, 0.2, 3.0]), top_k=2)
    assert [(m.artist_id, m.source) for m in top] == [("e1", "enrolled"), ("t2", "trained")]
    assert top[0].name == "Enrolled One" and 0.99 < top[0].similarity <= 1.0
    assert index.match(np.array([5.0, 0.0, 0.0]), top_k=10)[0].name == "Trained One"
    assert len(index.match(np.array([5.0, 0.0, 0.0]), top_k=10)) == 3


def test_the_centre_is_taken_off_before_the_cosine() -> None:
    centroids = ArtistCentroids(
        np.array([10.0, 10.0, 10.0]), ["a", "b"], np.array([[11.0, 10, 10], [10, 11.0, 10]]), [1, 1], 0.5
    )
    index = GalleryIndex(centroids, {})
    similarities = index.similarities(np.array([10.0, 12.0, 10.0]))
    np.testing.assert_allclose(similarities, [0.0, 1.0], atol=1e-6)


def test_one_changed_artist_gives_the_index_a_full_rebuild_would() -> None:
    means = np.array([[0.0, 0.0, 2.0], [0.0, 3.0, 1.0]], dtype=np.float32)
    base = GalleryIndex(_centroids(), {}, (["e1", "e2"], ["E1", "E2"], means), version=1)
    added = base.changed("e3", "E3", np.array([1.0, 1.0, 0.0]), version=2)
    replaced = added.changed("e1", "E1 again", np.array([0.0, 1.0, 1.0]), version=3)
    removed = replaced.changed("e2", "", None, version=4)
    rebuilt = GalleryIndex(
        _centroids(),
        {},
        (["e1", "e3"], ["E1 again", "E3"], np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])),
        version=4,
    )
    song = np.array([0.2, 0.9, 0.7])
    assert removed.ids == rebuilt.ids == ["t1", "t2", "e1", "e3"] and removed.names[2] == "E1 again"
    np.testing.assert_allclose(removed.similarities(song), rebuilt.similarities(song), rtol=1e-6)
    assert (base.n_enrolled, added.n_enrolled, removed.n_enrolled, removed.version) == (2, 3, 2, 4)
    np.testing.assert_allclose(
        base.similarities(song)[:4],
        GalleryIndex(_centroids(), {}, (["e1", "e2"], ["E1", "E2"], means)).similarities(song),
    )
