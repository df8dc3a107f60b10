"""Songs of the language study's four kinds, without audio, for the plan and split tests."""

from __future__ import annotations

from pathlib import Path

from training.catalog import Song
from training.studies.language import StudySongs


def song(i: int, source: str, **labels: str) -> Song:
    full = {"artist": "", "language": "", **labels}
    return Song(f"{source}{i:04d}", Path(f"data/benchmarks/{source}/audio/x{i}.flac"), full, f"{source}:{i}")


def study_songs() -> StudySongs:
    speech, k = [], 0
    voices = {
        "fr": ["gcompris-fr-a", "gcompris-fr-b", "gcompris-fr-words-unattributed"],
        "de": ["tuxpaint-de"],
    }
    voices["es"] = ["asterisk-es", "gcompris-es-c", "gcompris-es-d"]
    for language, names in voices.items():
        for voice in names:
            for _ in range(6):
                speech.append(song(k, "gcompris", language=language, voice=voice))
                k += 1
    music = [song(i, "gamemusic", language="zxx", artist=f"c{i % 3}", soundtrack="s") for i in range(30)]
    singing = [song(i, "dplace", language="es", society=f"soc{i % 6}") for i in range(12)]
    singing += [song(50 + i, "dplace", language="wole1240", society="w") for i in range(3)]
    singing += [
        song(90, "gamemusic", language="zxx", artist="Muldjord", soundtrack="fretsonfire-songs-muldjord")
    ]
    return StudySongs(speech, music, singing, ["de", "es", "fr", "zxx"])
