"""The expert refuses a tampered folder before loading it, and names the language of a decoded window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from service.expert.model import MAX_WINDOW_SAMPLES, LanguageExpert
from service.expert.verify import ExpertIntegrityError, verify
from tests.service.expert.conftest import REAL_EXPERT


def test_a_tampered_folder_is_refused_before_loading(expert_files: Path, pins: dict[str, str]) -> None:
    (expert_files / "config.json").write_text('{"lang_ids": [1]}')
    with pytest.raises(ExpertIntegrityError, match=r"config\.json has SHA-256"):
        LanguageExpert(expert_files, pins=pins)


def test_thread_settings_are_checked(expert_files: Path, pins: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cpu_threads must be >= 0"):
        LanguageExpert(expert_files, pins=pins, cpu_threads=-1)


def _real_expert_present() -> bool:
    try:
        verify(REAL_EXPERT)
    except ExpertIntegrityError:
        return False
    return True


needs_expert = pytest.mark.skipif(
    not _real_expert_present(),
    reason=f"the verified expert folder is absent ({REAL_EXPERT}; songid-expert fetch --into it)",
)


@pytest.fixture(scope="module")
def expert() -> Iterator[LanguageExpert]:
    pytest.importorskip("faster_whisper", reason="the expert extra is not installed")
    yield LanguageExpert(REAL_EXPERT, cpu_threads=2)


@needs_expert
def test_probabilities_cover_the_experts_languages(expert: LanguageExpert) -> None:
    rng = np.random.default_rng(0)
    probabilities = expert.language_probabilities((0.01 * rng.standard_normal(16_000 * 5)).astype(np.float32))
    assert set(probabilities) == {x.id for x in expert.labels} - {"zxx"}
    # a float32 softmax over 99 tokens: the sum is 1 to well within 1e-4
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())


@needs_expert
@pytest.mark.parametrize(
    ("audio", "fault"),
    [
        (np.zeros((2, 16_000), np.float32), "1-D float32"),
        (np.zeros(16_000, np.float64), "1-D float32"),
        (np.zeros(0, np.float32), "1 to 480000 samples"),
        (np.zeros(MAX_WINDOW_SAMPLES + 1, np.float32), "1 to 480000 samples"),
        (np.full(16_000, np.nan, np.float32), "NaN"),
    ],
)
def test_bad_windows_are_refused(expert: LanguageExpert, audio: np.ndarray, fault: str) -> None:
    with pytest.raises(ValueError, match=fault):
        expert.language_probabilities(audio)
