"""The bundled model's split: earlier roles kept, singing split by society, other languages exposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.study_songs import study_songs
from training.catalog import Song, load_catalog
from training.split import EXPOSURE
from training.studies.language import MIXED, SUNG
from training.studies.language_bundle import OUTSIDE_FILE, bundle_split, write_bundle_split, write_outside


def test_every_song_has_one_role_and_earlier_roles_are_kept() -> None:
    songs = study_songs()
    previous = {s.song_id: "test" for s in songs.instrumental[:4]}
    roles = bundle_split(songs, seed=0, recipe=SUNG, previous=previous)
    assert {roles[k] for k in previous} == {"test"}
    assert {roles[s.song_id] for s in songs.speech} == {"train", "val", "test"}
    by_society: dict[str, set[str]] = {}
    for s in songs.known_singing():
        by_society.setdefault(s.labels["society"], set()).add(roles[s.song_id])
    assert all(len(r) == 1 for r in by_society.values())  # a society's singers stay on one side
    outside = [s for s in songs.excerpts() if s.labels["language"] not in songs.labels]
    assert {roles[s.song_id] for s in outside} == {EXPOSURE}
    assert not {s.song_id for s in outside} & set(bundle_split(songs, seed=0, recipe=MIXED, previous={}))


def test_speech_outside_the_label_set_is_written_as_a_manifest_for_the_language_rule(tmp_path: Path) -> None:
    audio = tmp_path / "benchmarks" / "gcompris" / "audio" / "eo.flac"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"")
    spoken = Song("s1", audio, {"artist": "", "language": "eo", "voice": "v"}, "v:000")
    manifest = tmp_path / "runs" / OUTSIDE_FILE
    write_outside(manifest, [spoken])
    (song,) = load_catalog(manifest)
    assert song.path.resolve() == audio.resolve() and song.labels["language"] == "eo"


@pytest.mark.parametrize("content", [None, "not json", '{"counts": {}}', '{"assignment": [1]}'])
def test_a_previous_file_that_is_no_split_is_refused_before_anything_is_made(
    tmp_path: Path, content: str | None
) -> None:
    previous = tmp_path / "split.json"
    if content is not None:
        previous.write_text(content)
    cache, out = tmp_path / "cache", tmp_path / "runs" / "split.json"
    with pytest.raises(ValueError, match=r"split\.json: not a split file"):
        write_bundle_split(
            tmp_path / "benchmarks", cache, out, recipe=MIXED, previous=previous, seed=0, jobs=1
        )
    assert not cache.exists() and not out.parent.exists()
