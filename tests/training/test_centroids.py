"""songid centroids: an older export gains the embedding output on disk, heads unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from frontend.artifact import TRITON_CONFIG_FILE, load_artifact
from frontend.audio import N_MELS, SEGMENT_FRAMES
from tests.service.samples import make_artifact
from training.centroids import expose_embedding


def _run(model_path: Path, names: list[str], batch: np.ndarray) -> list[np.ndarray]:
    return ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(
        names, {"mel": batch}
    )


def test_an_export_without_the_embedding_gains_it_and_keeps_its_heads(tmp_path: Path) -> None:
    folder = make_artifact(tmp_path)
    before = load_artifact(folder)
    batch = np.random.default_rng(0).uniform(0, 3, (2, SEGMENT_FRAMES, N_MELS, 1)).astype(np.float32)
    heads_before = _run(before.onnx_path, before.tasks, batch)
    assert expose_embedding(folder) is True
    after = load_artifact(folder)
    assert after.signature.tensors == ["embedding"] and after.signature.outputs[-1].shape == (N_MELS,)
    assert "embedding" in (folder / TRITON_CONFIG_FILE).read_text()
    for old, new in zip(heads_before, _run(after.onnx_path, after.tasks, batch), strict=True):
        np.testing.assert_array_equal(old, new)
    assert expose_embedding(folder) is False  # already there: nothing written


def test_an_artist_without_training_songs_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    import pytest

    from frontend.centroids import CENTROIDS_FILE
    from tests.service.samples import encode
    from training.catalog import load_catalog
    from training.centroids import command
    from training.prepare import prepare
    from training.split import write_split

    folder = make_artifact(tmp_path / "models")
    data = tmp_path / "data"
    data.mkdir()
    rows = ["path,artist,language"]
    for i in range(3):  # songs of artist-a only: the model's other artists have none to average
        (data / f"s{i}.wav").write_bytes(encode("wav", seconds=4.0, freq=300.0 + 20 * i))
        rows.append(f"s{i}.wav,artist-a,en")
    (data / "m.csv").write_text("\n".join(rows) + "\n")
    songs = load_catalog(data / "m.csv")
    prepare(songs, tmp_path / "cache", jobs=1)
    write_split(
        tmp_path / "split.json", dict(zip((s.song_id for s in songs), ("train", "val", "test"), strict=True))
    )
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"no training song for artist\(s\) \['artist-b'"):
        command(folder, tmp_path / "cache", tmp_path / "split.json", None)
    assert not (folder / CENTROIDS_FILE).exists()
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # not even the embedding


def test_songs_without_an_artist_are_left_out_of_the_centroids_and_the_rule(tmp_path: Path) -> None:
    import json

    from frontend.centroids import CENTROIDS_FILE
    from tests.service.samples import ARTISTS, encode
    from training.catalog import load_catalog
    from training.centroids import command
    from training.openset_report import OpenSetInputs
    from training.openset_report import command as openset
    from training.prepare import prepare
    from training.split import write_split

    folder = make_artifact(tmp_path / "models")
    data = tmp_path / "data"
    data.mkdir()
    rows, roles = ["path,artist,language"], {}
    for a, artist in enumerate(ARTISTS):
        for i, role in enumerate(("train", "val", "test")):
            name = f"{artist['id']}-{i}.wav"
            (data / name).write_bytes(encode("wav", seconds=4.0, freq=200.0 + 40 * a + 10 * i))
            rows.append(f"{name},{artist['id']},en")
            roles[name] = role
    for i, role in enumerate(("train", "val", "test") * 2):  # speech with a language, no artist
        name = f"speech-{i}.wav"
        (data / name).write_bytes(encode("wav", seconds=4.0, freq=700.0 + 15 * i))
        rows.append(f"{name},,hi")
        roles[name] = role
    (data / "m.csv").write_text("\n".join(rows) + "\n")
    songs = load_catalog(data / "m.csv")
    prepare(songs, tmp_path / "cache", jobs=1)
    write_split(tmp_path / "split.json", {s.song_id: roles[s.path.name] for s in songs})

    command(folder, tmp_path / "cache", tmp_path / "split.json", None)
    written = json.loads((folder / CENTROIDS_FILE).read_text())
    assert written["calibration"]["train_songs"] == written["calibration"]["test_songs"] == len(ARTISTS)
    assert [a["songs"] for a in written["artists"]] == [1] * len(ARTISTS)
    cache, split = tmp_path / "cache", tmp_path / "split.json"
    inputs = OpenSetInputs(folder, cache, split, data / "m.csv", tmp_path / "w")
    openset(inputs, out=tmp_path / "openset.md", write_rules=True)
    rule = json.loads((folder / "openset.json").read_text())["tasks"]["artist"]
    assert rule["calibration"]["val_songs"] == rule["calibration"]["test_songs"] == len(ARTISTS)
