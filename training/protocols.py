"""Evaluation protocols: which songs one run trains, validates and tests on.

``song-split``: the paper's closed-set protocol, a seeded song-level 80/10/10 split stratified by
artist (every artist, and so every voice, is in train and test).

``unseen-voice``: the test songs are those of voices never heard in training. Languages sung by
two or more voices give one fold per voice rank: fold ``k`` holds out the ``k``-th voice (sorted by
name) of every such language, so each held-out voice's language is still trained through its
other voice(s), and the folds together test every direction. Voices of single-voice languages
are always trained on. The remaining songs are split 90/10 into train and val, seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from training.catalog import Song
from training.split import split_songs, split_train_val

SONG_SPLIT: Final = "song-split"
UNSEEN_VOICE: Final = "unseen-voice"
PROTOCOLS: Final = (SONG_SPLIT, UNSEEN_VOICE)


@dataclass(frozen=True)
class Fold:
    """One way of holding songs out; ``test_voices`` is empty for the song split."""

    name: str
    test_voices: tuple[str, ...] = ()

    def run_key(self, seed: int) -> str:
        """Name of the (fold, seed) run, e.g. ``seed0`` or ``fold1-seed2``."""
        return f"seed{seed}" if not self.test_voices else f"{self.name}-seed{seed}"


SONG_SPLIT_FOLD: Final = Fold("all")


def _column(songs: Sequence[Song], column: str) -> list[str]:
    missing = [s.path.as_posix() for s in songs if not s.labels.get(column)]
    if missing:
        raise ValueError(f"{len(missing)} song(s) have no {column!r} label, e.g. {missing[0]}")
    return [s.labels[column] for s in songs]


def voices_by_language(
    songs: Sequence[Song], *, voice: str = "voice", language: str = "language"
) -> dict[str, list[str]]:
    """language -> its voices, sorted; raises if one voice is labelled with two languages."""
    pairs = set(zip(_column(songs, voice), _column(songs, language), strict=True))
    seen: dict[str, str] = {}
    for v, lang in sorted(pairs):
        if v in seen:
            raise ValueError(f"voice {v!r} is labelled with two languages, {seen[v]!r} and {lang!r}")
        seen[v] = lang
    out: dict[str, list[str]] = {}
    for v, lang in sorted(seen.items()):
        out.setdefault(lang, []).append(v)
    return out


def unseen_voice_folds(
    songs: Sequence[Song], *, voice: str = "voice", language: str = "language"
) -> list[Fold]:
    """The folds of the unseen-voice protocol (see the module docstring).

    Raises:
        ValueError: no language has two voices, so no voice can be held out.
    """
    by_lang = voices_by_language(songs, voice=voice, language=language)
    multi = {lang: vs for lang, vs in by_lang.items() if len(vs) >= 2}
    if not multi:
        raise ValueError(f"unseen-voice needs a language with >= 2 voices; voices per language: {by_lang}")
    n_folds = max(len(vs) for vs in multi.values())
    return [
        Fold(f"fold{k}", tuple(vs[k] for _, vs in sorted(multi.items()) if k < len(vs)))
        for k in range(n_folds)
    ]


def unseen_voice_split(
    songs: Sequence[Song],
    fold: Fold,
    *,
    seed: int,
    stratify: str = "artist",
    val: float = 0.1,
    voice: str = "voice",
    language: str = "language",
) -> dict[str, str]:
    """``{song_id: split}``: the songs of ``fold.test_voices`` in test, the rest in train/val.

    Raises:
        ValueError: a held-out voice is unknown, or held-out voices leave a language of the
            test songs without any training voice.
    """
    by_lang = voices_by_language(songs, voice=voice, language=language)
    known = {v for vs in by_lang.values() for v in vs}
    unknown = sorted(set(fold.test_voices) - known)
    if unknown or not fold.test_voices:
        raise ValueError(f"{fold.name}: held-out voices {unknown or '()'} not among {sorted(known)}")
    untrained = sorted(lang for lang, vs in by_lang.items() if set(vs) <= set(fold.test_voices))
    if untrained:
        raise ValueError(
            f"{fold.name}: holding out {fold.test_voices} leaves no training voice for {untrained}"
        )
    test_ids = {s.song_id for s in songs if s.labels[voice] in fold.test_voices}
    rest = [s for s in songs if s.song_id not in test_ids]
    assignment = split_train_val(rest, seed=seed, stratify=stratify, val=val)
    return {**assignment, **dict.fromkeys(test_ids, "test")}


def protocol_folds(protocol: str, songs: Sequence[Song]) -> list[Fold]:
    """The folds of ``protocol``: one for the song split, one per voice rank for unseen voice."""
    if protocol == SONG_SPLIT:
        return [SONG_SPLIT_FOLD]
    if protocol == UNSEEN_VOICE:
        return unseen_voice_folds(songs)
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")


def protocol_split(
    protocol: str, songs: Sequence[Song], fold: Fold, *, seed: int, stratify: str = "artist"
) -> dict[str, str]:
    """``{song_id: split}`` of one (protocol, fold, seed) run."""
    if protocol == SONG_SPLIT:
        return split_songs(list(songs), seed=seed, stratify=stratify)
    if protocol == UNSEEN_VOICE:
        return unseen_voice_split(songs, fold, seed=seed, stratify=stratify)
    raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
