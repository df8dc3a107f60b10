"""centroids.json: written, read back, and refused when it does not fit the model."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.centroids import ArtistCentroids, CentroidsError, parse_centroids, unit_rows


def _document() -> dict:
    return ArtistCentroids(
        np.zeros(2), ["a", "b"], np.array([[1.0, 0.0], [0.0, 1.0]]), [3, 4], 0.4, {"n": 1}
    ).document()


def test_a_document_round_trips() -> None:
    parsed = parse_centroids(_document(), artist_ids=["a", "b"], dim=2, where="c.json")
    assert parsed.ids == ["a", "b"] and parsed.songs == [3, 4] and parsed.threshold == 0.4
    np.testing.assert_allclose(parsed.means, [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(threshold=2.0), "threshold must be a cosine in \\[-1, 1\\], got 2.0"),
        (lambda d: d.update(centre=[0.0]), "centre: expected a list of 2 numbers"),
        (lambda d: d["artists"].reverse(), "not the model's artist labels in order"),
        (
            lambda d: d["artists"][0].update(mean=[float("nan"), 0.0]),
            "a: holds a value that is not a finite number",
        ),
        (lambda d: d["artists"][1].update(songs=0), "'songs' >= 1"),
    ],
)
def test_a_document_that_does_not_fit_is_refused_by_name(change, message: str) -> None:  # type: ignore[no-untyped-def]
    document = _document()
    change(document)
    with pytest.raises(CentroidsError, match=message):
        parse_centroids(document, artist_ids=["a", "b"], dim=2, where="c.json")


def test_unit_rows_centre_and_normalise_and_keep_zero_rows() -> None:
    rows = unit_rows(np.array([[3.0, 4.0], [1.0, 1.0]]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(rows[0], [0.6, 0.8])
    np.testing.assert_allclose(unit_rows(np.array([2.0, 2.0]), np.array([2.0, 2.0])), [0.0, 0.0])
