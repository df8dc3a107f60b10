"""The language gate in the service: the network's voice decides whether the expert hears the song."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.labels import Label
from frontend.language_gate import SEGMENT_HOP_SAMPLES, WINDOW_SAMPLES, GateRule
from service.language import GatedLanguage

HEAD = [Label("fr", "French"), Label("zxx", "No linguistic content")]


class Recorder:
    """An expert that answers French and keeps every window it was given."""

    def __init__(self) -> None:
        self.labels = [Label("en", "English"), Label("fr", "French")]
        self.heard: list[np.ndarray] = []

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        self.heard.append(audio)
        return {"fr": 0.8, "en": 0.2}


def _head(voice: np.ndarray) -> np.ndarray:
    return np.stack([voice, 1.0 - voice], axis=1)


def test_a_song_without_voice_is_zxx_and_the_expert_never_runs() -> None:
    expert = Recorder()
    gated = GatedLanguage(expert, GateRule(0.5, windows=2), HEAD)
    answer = gated.song(_head(np.full(30, 0.1)), np.zeros(30 * SEGMENT_HOP_SAMPLES, np.float32))
    assert expert.heard == [] and answer.windows == 0
    assert [label.id for label in gated.labels] == ["zxx", "en", "fr"]
    assert answer.probs.argmax() == 0 and answer.probs.sum() == pytest.approx(1.0)


def test_the_expert_hears_the_most_voiced_windows_of_the_song() -> None:
    expert = Recorder()
    voice = np.full(40, 0.05)
    voice[22:32] = 0.95  # someone sings from segment 22 to 31
    samples = np.arange(40 * SEGMENT_HOP_SAMPLES, dtype=np.float32)
    answer = gated_song = GatedLanguage(expert, GateRule(0.5, windows=1), HEAD).song(_head(voice), samples)
    assert gated_song.windows == 1 and len(expert.heard) == 1
    window = expert.heard[0]
    assert len(window) == WINDOW_SAMPLES and window[0] == 22 * SEGMENT_HOP_SAMPLES
    np.testing.assert_allclose(answer.voice, voice)
    assert answer.probs[2] == pytest.approx(0.95 * 0.8)  # fr: voice score x the expert's


def test_a_head_without_zxx_cannot_gate() -> None:
    with pytest.raises(ValueError, match="no 'zxx' to gate with"):
        GatedLanguage(Recorder(), GateRule(0.5), [Label("fr", "French")])
