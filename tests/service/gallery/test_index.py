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
