"""Synthetic inputs that must have evidence for ``bench.evidence``: music-like tracks,
speech-like audio and, where espeak-ng is installed, spoken sentences."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from frontend.audio import SAMPLE_RATE as SR
from training.signals import Item, encode, synthetic_track

ESPEAK_TEXTS = (
    ("en", "Please leave a message after the tone. We will call you back as soon as we can. Thank you."),
    ("fr", "Bonjour, vous êtes bien sur le répondeur. Laissez un message après le bip sonore, merci."),
)


_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (660, 1720, 2410))


def synthetic_speech(seconds: float = 10.0, rate: int = SR, seed: int = 0) -> np.ndarray:
    """Speech-like audio, float32 at -10 dBFS peak: voiced syllables (harmonics of a gliding pitch
    shaped by the formants of a vowel, a syllable envelope), fricative hiss and short pauses."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    pos = int(0.2 * rate)
    while pos < out.size:
        t = np.arange(min(int(rng.uniform(0.12, 0.3) * rate), out.size - pos)) / rate
        f0 = rng.uniform(100, 180) * (
            1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 6))
        )
        phase = 2 * np.pi * np.cumsum(f0) / rate
        formants = _VOWELS[rng.integers(len(_VOWELS))]
        voiced = np.zeros(t.size)
        for k in range(1, int(4000 / f0.max())):
            gain = sum(1 / (1 + ((k * f0 - fc) / (60 + 0.08 * fc)) ** 2) for fc in formants)
            voiced += gain / np.sqrt(k) * np.sin(k * phase)
        out[pos : pos + t.size] += voiced * np.sin(np.pi * np.arange(t.size) / max(t.size, 1)) ** 0.7
        pos += t.size
        if rng.random() < 0.4 and pos < out.size:  # a fricative: noise above 3 kHz
            m = min(int(rng.uniform(0.05, 0.12) * rate), out.size - pos)
            hiss = np.fft.rfft(rng.standard_normal(m))
            hiss[np.fft.rfftfreq(m, 1 / rate) < 3000] = 0
            out[pos : pos + m] += 0.3 * np.fft.irfft(hiss, m)
            pos += m
        pos += int(rng.choice([0.02, 0.05, 0.3], p=[0.6, 0.3, 0.1]) * rate)
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def espeak(text: str, voice: str) -> bytes | None:
    """A WAV of ``text`` spoken by espeak-ng, or None when espeak-ng is not installed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-w", str(out), text], check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def evidence_corpus() -> Iterator[Item]:
    """Synthetic inputs that must have evidence: music-like tracks, speech-like audio, espeak-ng."""
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in (30.0, 4.0):
            path = synthetic_track(Path(tmp) / f"{seconds}.flac", seconds=seconds, rate=44_100)
            yield Item(f"synthetic_track {seconds:.0f} s @44100", "", path.read_bytes())
    for seed in range(3):
        yield Item(f"synthetic speech {seed} @16000", "", encode(synthetic_speech(20.0, seed=seed), SR))
    yield Item("synthetic speech 4 s @8000", "", encode(synthetic_speech(4.0, rate=8_000), 8_000))
    for voice, text in ESPEAK_TEXTS:
        data = espeak(text, voice)
        if data is not None:
            yield Item(f"espeak-ng {voice}", "", data)
