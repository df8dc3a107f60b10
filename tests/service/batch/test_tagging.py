"""One file to one row: exactly what POST /predict answers, and errors as rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.batch.sources import Item
from service.batch.tagging import Tagger, TagOptions, columns
from service.model import ModelLoadError
from tests.service.batch.conftest import BROKEN
from tests.service.conftest import upload


@pytest.fixture(scope="module")
def tagger(model_repo: Path) -> Tagger:
    return Tagger(TagOptions(model_dir=str(model_repo), provider="cpu", top_k=3), intra_op_threads=1)


def item(root: Path, key: str) -> Item:
    return Item(key, str(root / key))


def test_a_row_holds_what_the_service_answers(catalog: Path, tagger: Tagger, client: TestClient) -> None:
    key = "hi/bo/three.mp3"
    row = tagger.tag(item(catalog, key))
    answer = upload(client, (catalog / key).read_bytes(), params={"top_k": 3}).json()

    assert list(row) == columns(["artist", "language"])
    assert row["path"] == key and row["error"] is None
    assert row["duration_s"] == answer["duration_s"] and row["n_segments"] == answer["n_segments"] == 3
    assert (row["model_name"], row["model_version"]) == ("songid-test", 1)
    for task in ("artist", "language"):
        assert row[f"{task}_labels"] == [score["label"] for score in answer["predictions"][task]]
        assert row[f"{task}_probabilities"] == [score["probability"] for score in answer["predictions"][task]]
        assert len(row[f"{task}_labels"]) == 3
        assert row[f"{task}_probabilities"] == sorted(row[f"{task}_probabilities"], reverse=True)


def test_top_k_beyond_a_tasks_labels_gives_all_of_them(catalog: Path, model_repo: Path) -> None:
    tagger = Tagger(TagOptions(model_dir=str(model_repo), provider="cpu", top_k=100), intra_op_threads=1)
    row = tagger.tag(item(catalog, "en/ann/one.wav"))
    assert len(row["artist_labels"]) == 4 and len(row["language_labels"]) == 3
    assert sum(row["language_probabilities"]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (BROKEN, b"not audio " * 30, "unsupported_media_type: cannot decode the file as audio"),
        ("empty.wav", b"", "unsupported_media_type: cannot decode the file as audio: unrecognised"),
        ("missing.flac", None, "unreadable: [Errno 2] No such file or directory"),
    ],
)
def test_a_file_that_cannot_be_tagged_is_an_error_row(
    tmp_path: Path, tagger: Tagger, name: str, content: bytes | None, expected: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is not None:
        path.write_bytes(content)
    row = tagger.tag(Item(name, str(path)))
    assert row["error"].startswith(expected)
    assert row["path"] == name and row["duration_s"] is None and row["n_segments"] is None
    assert row["artist_labels"] == row["language_probabilities"] == []
    assert (row["model_name"], row["model_version"]) == ("songid-test", 1)


def test_a_file_over_the_decoded_size_limit_is_an_error_row(tmp_path: Path, model_repo: Path) -> None:
    from tests.service.samples import encode

    path = tmp_path / "wide.wav"  # 3 s at 192 kHz in 16 channels: about 37 MiB of float32
    path.write_bytes(encode("wav", seconds=3.0, rate=192_000, channels=16))
    options = TagOptions(model_dir=str(model_repo), provider="cpu", max_decoded_bytes=16 * 2**20)
    row = Tagger(options, intra_op_threads=1).tag(Item("wide.wav", str(path)))
    assert row["error"].startswith("payload_too_large: decoding this file would need about 37 MiB")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"top_k": 0}, "top_k must be between 1 and 100, got 0"),
        ({"top_k": 101}, "top_k must be between 1 and 100, got 101"),
        ({"max_duration_s": 0.0}, "max_duration_s must be > 0, got 0.0"),
        ({"max_decoded_bytes": 10}, "max_decoded_bytes must be at least 16777216, got 10"),
        ({"batch_size": 0}, "batch_size must be between 1 and 1024, got 0"),
        ({"model_version": 0}, "model_version must be >= 1, got 0"),
    ],
)
def test_bad_options_are_refused_naming_the_value(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TagOptions(model_dir="models", **overrides)  # type: ignore[arg-type]


def test_a_bad_model_folder_fails_to_load(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="model folder does not exist"):
        Tagger(TagOptions(model_dir=str(tmp_path / "nowhere")))


def test_a_gallerys_enrolled_artist_is_tagged_as_such(tmp_path: Path) -> None:
    from service.gallery.enrolment import embed_songs
    from service.gallery.gallery import open_gallery
    from service.limits import DEFAULT_LIMITS
    from service.model import SongModel
    from service.pipeline import Pipeline
    from tests.service.samples import encode, make_artifact

    make_artifact(tmp_path / "models", embedding=True, centroids=True)
    song = tmp_path / "song.wav"
    song.write_bytes(encode("wav", seconds=6.0, freq=330.0))
    model = SongModel(tmp_path / "models", provider="cpu")
    model.load()
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    gallery, _ = open_gallery(model.artifact, url=url, poll_s=1.0, threshold=None)
    assert gallery is not None
    with song.open("rb") as f:
        gallery.enrol(
            "new-one", "New One", embed_songs(Pipeline(model, DEFAULT_LIMITS), [("song.wav", f, None)])
        )
    gallery.close()
    options = TagOptions(model_dir=str(tmp_path / "models"), provider="cpu", gallery_url=url)
    row = Tagger(options, intra_op_threads=1).tag(Item("song.wav", str(song)))
    assert (row["artist_status"], row["artist_label"], row["artist_source"]) == (
        "known",
        "new-one",
        "enrolled",
    )
    assert row["language_source"] in ("trained", None)
    make_artifact(tmp_path / "plain")  # a model without centroids cannot compare artists
    plain = TagOptions(model_dir=str(tmp_path / "plain"), provider="cpu", gallery_url=url)
    with pytest.raises(ValueError, match=r"model songid-test:1 has no centroids\.json"):
        Tagger(plain)
