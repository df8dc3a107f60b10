"""The bundled model's split: earlier roles kept, singing split by society, other languages exposed."""

from __future__ import annotations

from tests.training.study_songs import study_songs
from training.language_bundle import bundle_split
from training.language_study import MIXED, SUNG
from training.split import EXPOSURE


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
