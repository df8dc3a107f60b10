"""The language expert study: four rows on the language study's test sets, resumable, and its report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from frontend.labels import Label
from tests.training.study_songs import study_songs
from training.catalog import Song
from training.expert_calibration import ExpertAnswers, gate_threshold
from training.studies.language_expert import measure_fold
from training.studies.language_expert_report import EXPERT_HEADING, render, write


class TruthfulExpert:
    """Names the song's language where there is one, else (instruments) says French; counts its calls."""

    def __init__(self, songs: dict[str, Song]) -> None:
        self.labels = [
            Label("es", "Spanish"),
            Label("fr", "French"),
            Label("de", "German"),
            Label("en", "English"),
        ]
        self.calls = 0
        self.songs = songs

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        self.calls += 1
        truth = self.songs[str(int(audio[0]))].labels["language"]
        return {"fr": 1.0} if truth not in {"es", "fr", "de", "en"} else {truth: 1.0}


def _voice(song: Song) -> np.ndarray:
    """Instrumental tracks have no voice; everything else is sung or spoken throughout."""
    return np.full(25, 0.05 if song.labels["language"] == "zxx" else 0.9)


def test_four_rows_on_the_same_songs_and_the_gate_keeps_the_expert_off_instruments(tmp_path: Path) -> None:
    songs = study_songs()
    everyone = songs.speech + songs.instrumental + songs.singing
    ids = {s.song_id: i for i, s in enumerate(everyone)}
    by_index = {str(i): s for s, i in ids.items() for s in [next(x for x in everyone if x.song_id == s)]}
    expert = TruthfulExpert(by_index)
    audio = lambda s: np.full(16_000 * 80, float(ids[s.song_id]), np.float32)  # noqa: E731
    answers = ExpertAnswers(tmp_path / "answers.json", expert, audio)
    record = measure_fold(songs, 0, voice=_voice, expert=expert, answers=answers)
    gated = record["gated"]["1"]
    assert gated["instrumental"]["zxx_rate"] == 1.0  # the gate: no language for instruments
    assert record["expert"]["instrumental"]["zxx_rate"] == 0.0  # the expert alone always names one
    assert gated["unseen_speaker"]["top1"] == 1.0 and gated["singing_dplace"]["zxx_rate"] == 0.0
    assert record["songs"]["singing_expert_language"] == 6  # the Spanish excerpts of the test societies
    assert 0.05 < record["gate"]["voice_threshold"] < 0.9
    calls = expert.calls
    again = measure_fold(
        songs, 0, voice=_voice, expert=expert, answers=ExpertAnswers(answers.path, expert, audio)
    )
    assert expert.calls == calls and again == record  # every answer kept: a resumed study hears nothing twice
    text = render(
        [record], [{"recipe": "voiced", "fold": 0, "cnn": record["expert"], "baseline": record["expert"]}]
    )
    assert text.startswith(EXPERT_HEADING) and "| gated, 1 window(s) |" in text


def test_the_report_section_replaces_its_earlier_self(tmp_path: Path) -> None:
    out = tmp_path / "language.md"
    out.write_text("# Language\n\nthe study\n\n" + EXPERT_HEADING + "\nthe earlier section\n")
    record = {
        "fold": 0,
        "songs": {"unseen_speaker": 1},
        "expert": {},
        "gated": {"1": {"unseen_speaker": {"top1": 1.0, "served": None}}},
        "gate": {"voice_threshold": 0.5},
    }
    write([record], [], out)
    text = out.read_text()
    assert text.startswith("# Language\n\nthe study\n\n" + EXPERT_HEADING)
    assert "the earlier section" not in text


def test_the_gate_threshold_separates_voiced_from_instrumental_validation_songs() -> None:
    cut = gate_threshold([0.8, 0.9, 0.7], [0.1, 0.2])
    assert 0.2 < cut < 0.7
