"""Synthetic test signals: a music-like track, and the corpus of inputs that carry no evidence of
music or speech (noise, silence, DC, tones, clicks, clips too short), encoded as a client would
send them. Used by the evidence benchmark and by the open-set protocol's no-evidence results.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from frontend.audio import SAMPLE_RATE as SR

RATES = (16_000, 44_100, 8_000)  # the model's rate, a CD rate, a telephone rate


def synthetic_track(path: Path, seconds: float = 180.0, rate: int = 16_000, *, seed: int = 0) -> Path:
    """A music-like test signal: a melody of harmonic notes with an envelope, plus noise (FLAC)."""
    rng = np.random.default_rng(seed)
    note_s = 0.25
    n_notes = int(np.ceil(seconds / note_s))
    freqs = 220.0 * 2 ** (rng.integers(0, 24, n_notes) / 12)
    t = np.arange(int(note_s * rate)) / rate
    envelope = np.exp(-3 * t)
    notes = [envelope * sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3, 4)) for f in freqs]
    signal_ = np.concatenate(notes)[: int(seconds * rate)]
    signal_ = 0.2 * signal_ + 0.01 * rng.standard_normal(signal_.shape[0])
    sf.write(path, signal_.astype(np.float32), rate, format="FLAC", subtype="PCM_16")
    return path


@dataclass(frozen=True)
class Item:
    """One synthetic input: encoded bytes and the reason it must get (``""``: evidence)."""

    name: str
    expected: str
    data: bytes


def encode(x: np.ndarray, rate: int, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    out = io.BytesIO()
    sf.write(out, np.asarray(x, dtype=np.float32), rate, format=fmt, subtype=subtype)
    return out.getvalue()


def _level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """``x`` scaled to an RMS of ``dbfs`` dB below full scale."""
    return x / np.sqrt(np.mean(np.square(x))) * 10 ** (dbfs / 20)


def coloured_noise(n: int, rng: np.random.Generator, alpha: float) -> np.ndarray:
    """Noise with a ``1 / f**alpha`` power spectrum (1: pink, 2: brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / f ** (alpha / 2), n)
    return x / x.std()


def no_evidence_corpus(seconds: float = 30.0, rates: Sequence[int] = RATES) -> Iterator[Item]:
    """The inputs that must be judged no evidence, each at every rate in ``rates``."""
    rng = np.random.default_rng(1)
    for rate in rates:
        n = int(seconds * rate)
        t = np.arange(n) / rate
        for dbfs in (-6, -20, -35):
            noise = np.clip(_level(rng.standard_normal(n), dbfs), -1, 1)
            yield Item(f"white noise {dbfs} dBFS @{rate}", "stationary_noise", encode(noise, rate))
        for name, alpha in (("pink", 1.0), ("brown", 2.0)):
            noise = _level(coloured_noise(n, rng, alpha), -20)
            yield Item(f"{name} noise -20 dBFS @{rate}", "stationary_noise", encode(noise, rate, "FLAC"))
        yield Item(f"digital silence @{rate}", "silence", encode(np.zeros(n), rate))
        near = _level(rng.standard_normal(n), -80)
        yield Item(f"noise -80 dBFS @{rate}", "silence", encode(near, rate, "WAV", "FLOAT"))
        yield Item(f"DC 0.5 @{rate}", "dc", encode(np.full(n, 0.5), rate))
        for freq in (100, 1000, 5000):
            if freq < rate / 2:
                sine = 0.5 * np.sin(2 * np.pi * freq * t)
                yield Item(f"sine {freq} Hz @{rate}", "constant_tone", encode(sine, rate, "FLAC"))
        hum = 0.5 * np.sin(2 * np.pi * 1000 * t) + _level(rng.standard_normal(n), -50)
        yield Item(f"sine 1 kHz + noise -50 dBFS @{rate}", "constant_tone", encode(hum, rate))
        clicks = np.zeros(n)
        clicks[:: rate // 2] = 0.9
        yield Item(f"clicks every 0.5 s @{rate}", "clicks", encode(clicks, rate))
        bursts = np.zeros(n)
        for where in (0.1, 0.3, 0.55, 0.8):
            start = int(where * n)
            bursts[start : start + rate // 50] = _level(rng.standard_normal(rate // 50), -10)
        yield Item(f"four 20 ms bursts @{rate}", "clicks", encode(bursts, rate))
    with tempfile.TemporaryDirectory() as tmp:
        music = sf.read(synthetic_track(Path(tmp) / "m.flac", seconds=1.0), dtype="float32")[0]
    yield Item("music-like 0.05 s", "too_short", encode(music[: SR // 20], SR))
    truncated = encode(music, 44_100)[:300]  # header + 128 samples: 3 ms at 44.1 kHz
    yield Item("WAV truncated to 300 bytes", "too_short", truncated)
