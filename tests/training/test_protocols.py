"""Protocol splits: the closed-set song split and unseen voice (the test voice is never trained on)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from training.catalog import Song
from training.protocols import (
    SONG_SPLIT,
    UNSEEN_VOICE,
    Fold,
    protocol_folds,
    protocol_split,
    unseen_voice_folds,
    unseen_voice_split,
    voices_by_language,
)
from training.split import split_train_val

VOICES = {  # voice -> language, as the voices benchmark: es, fr, it have two voices each
    "core-en": "en",
    "core-ru": "ru",
    "core-es": "es",
    "es-co": "es",
    "core-fr": "fr",
    "fr-armelle": "fr",
    "core-it": "it",
    "it-menardi": "it",
}


def _catalog(per_voice: int = 10) -> list[Song]:
    return [
        Song(f"{v}-{k}", Path(f"{v}/{k}.flac"), {"artist": v, "language": lang, "voice": v}, f"{v}:{k}")
        for v, lang in VOICES.items()
        for k in range(per_voice)
    ]


def test_folds_hold_out_one_voice_per_multi_voice_language() -> None:
    folds = unseen_voice_folds(_catalog())
    assert folds == [
        Fold("fold0", ("core-es", "core-fr", "core-it")),
        Fold("fold1", ("es-co", "fr-armelle", "it-menardi")),
    ]
    assert protocol_folds(UNSEEN_VOICE, _catalog()) == folds
    assert [f.run_key(2) for f in folds] == ["fold0-seed2", "fold1-seed2"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unseen_voice_never_trains_on_the_test_voice(seed: int) -> None:
    songs = _catalog()
    voice_of = {s.song_id: s.labels["voice"] for s in songs}
    for fold in unseen_voice_folds(songs):
        assignment = unseen_voice_split(songs, fold, seed=seed)
        assert set(assignment) == set(voice_of)
        by_split = {
            k: {voice_of[s] for s, v in assignment.items() if v == k} for k in ("train", "val", "test")
        }
        assert by_split["test"] == set(fold.test_voices)
        assert not by_split["test"] & (by_split["train"] | by_split["val"])
        assert {"core-en", "core-ru"} <= by_split["train"]  # single-voice languages always trained
        trained_languages = {VOICES[v] for v in by_split["train"]}
        assert {VOICES[v] for v in fold.test_voices} <= trained_languages
        assert 0 < Counter(assignment.values())["val"] < Counter(assignment.values())["train"]


def test_song_split_protocol_keeps_every_voice_in_train_and_test() -> None:
    songs = _catalog()
    assignment = protocol_split(SONG_SPLIT, songs, protocol_folds(SONG_SPLIT, songs)[0], seed=0)
    assert set(Counter(assignment.values())) == {"train", "val", "test"}
    tested = {s.labels["voice"] for s in songs if assignment[s.song_id] == "test"}
    assert len(tested) >= 6


def test_split_train_val_keeps_groups_whole() -> None:
    songs = [Song(f"s{k}", Path(f"{k}.flac"), {"artist": f"a{k % 3}"}, f"g{k // 2}") for k in range(30)]
    assignment = split_train_val(songs, seed=0)
    for k in range(0, 30, 2):
        assert assignment[f"s{k}"] == assignment[f"s{k + 1}"]
    assert set(assignment.values()) == {"train", "val"}


def test_errors_name_the_bad_value() -> None:
    songs = _catalog()
    with pytest.raises(ValueError, match=r"held-out voices \['nobody'\] not among"):
        unseen_voice_split(songs, Fold("x", ("nobody",)), seed=0)
    with pytest.raises(ValueError, match=r"leaves no training voice for \['es'\]"):
        unseen_voice_split(songs, Fold("x", ("core-es", "es-co")), seed=0)
    single = [s for s in songs if s.labels["language"] in ("en", "ru")]
    with pytest.raises(ValueError, match="needs a language with >= 2 voices"):
        unseen_voice_folds(single)
    labels = {"artist": "core-en", "language": "fr", "voice": "core-en"}
    clash = [*songs, Song("z", Path("z.flac"), labels, "z")]
    with pytest.raises(ValueError, match="voice 'core-en' is labelled with two languages"):
        voices_by_language(clash)
    with pytest.raises(ValueError, match="unknown protocol 'nope'"):
        protocol_folds("nope", songs)
