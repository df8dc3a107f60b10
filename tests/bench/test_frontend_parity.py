"""The numpy front end computes what librosa computes (the service does not import librosa)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.inprocess import librosa_log_mel
from frontend import audio
from frontend.audio import F_MAX, F_MIN, HOP_LENGTH, N_FFT, N_MELS, SAMPLE_RATE, log_mel, stft_power

librosa = pytest.importorskip("librosa")


def signal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


def test_mel_filters_equal_librosas() -> None:
    expected = librosa.filters.mel(
        sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=F_MIN, fmax=F_MAX, dtype=np.float32
    )
    np.testing.assert_array_equal(audio._mel_basis(), expected)


@pytest.mark.parametrize("n", [48_000, 48_001, 48_255, 100_000])
def test_power_spectrogram_equals_librosas(n: int) -> None:
    y = signal(n)
    spec = librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH, window="hann", center=True)
    np.testing.assert_array_equal(stft_power(y), np.square(np.abs(spec), dtype=np.float32).T)


@pytest.mark.parametrize("n", [1_000, 48_000, 160_123])
def test_log_mel_equals_librosas_within_float32_rounding(n: int) -> None:
    y = signal(n, seed=n)
    padded = np.pad(y, (0, max(0, audio.SEGMENT_SAMPLES - n)))
    ours, reference = log_mel(y), librosa_log_mel(padded)
    assert ours.shape == reference.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2e-6)
