"""The language gate: voice from the network's zxx, the most voiced windows, the combined ranking."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.language_gate import (
    WINDOW_SEGMENTS,
    GateRule,
    combine,
    no_voice,
    voice_probabilities,
    voice_score,
    voiced_windows,
)


def test_voice_is_one_minus_the_zxx_column() -> None:
    probs = np.array([[0.1, 0.9], [0.7, 0.3]])
    np.testing.assert_allclose(voice_probabilities(probs, 1), [0.1, 0.7])
    with pytest.raises(ValueError, match="zxx column"):
        voice_probabilities(probs, 2)


def test_the_most_voiced_windows_do_not_overlap_and_come_first() -> None:
    voice = np.zeros(40)
    voice[25:35] = 0.9  # the most voiced stretch
    voice[2:12] = 0.5
    chosen = voiced_windows(voice, windows=3)
    assert chosen[0] == (25, pytest.approx(0.9))
    assert chosen[1] == (2, pytest.approx(0.5))
    starts = [s for s, _ in chosen]
    assert all(abs(a - b) >= WINDOW_SEGMENTS for i, a in enumerate(starts) for b in starts[i + 1 :])


def test_a_song_shorter_than_a_window_is_one_window_of_its_length() -> None:
    assert voiced_windows(np.array([0.2, 0.4]), windows=3) == [(0, pytest.approx(0.3))]
    assert voice_score(np.array([0.2, 0.4])) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="no segments"):
        voiced_windows(np.array([]), windows=1)


def test_the_combined_ranking_sums_to_one_and_weights_windows_by_voice() -> None:
    labels = ["zxx", "en", "fr"]
    p = combine([{"en": 1.0}, {"fr": 1.0}], [0.9, 0.3], 0.9, labels)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] == pytest.approx(0.1)  # 1 - voice score
    assert p[1] == pytest.approx(0.9 * 0.75) and p[2] == pytest.approx(0.9 * 0.25)
    with pytest.raises(ValueError, match="one weight per window"):
        combine([{"en": 1.0}], [], 0.9, labels)


def test_without_voice_zxx_takes_the_rest_and_the_languages_share_the_doubt() -> None:
    p = no_voice(0.2, ["zxx", "en", "fr", "es", "de"])
    assert p[0] == pytest.approx(0.8) and p.sum() == pytest.approx(1.0)
    assert np.allclose(p[1:], 0.05)


def test_a_rule_out_of_range_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"got 1\.5, 1"):
        GateRule(1.5)
    with pytest.raises(ValueError, match="voice_threshold"):
        GateRule.from_document({"windows": 2}, where="gate.json")
    assert GateRule.from_document(GateRule(0.4, 2).document(), where="x") == GateRule(0.4, 2)
