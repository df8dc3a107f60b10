"""One input through the front end and the "no evidence" detector for ``bench.evidence``: its
verdict, the detector's time, and the verdicts of excerpts cut from it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.audio import HOP_LENGTH, load_audio, log_mel
from frontend.audio import SAMPLE_RATE as SR
from frontend.evidence import Evidence, assess

EXCERPT_S = (2.0, 3.0, 5.0, 10.0, 30.0)  # lengths of the excerpts cut from each real file
EXCERPTS_PER_FILE = 3


@dataclass(frozen=True)
class Measured:
    name: str
    expected: str  # "" for evidence
    verdict: Evidence
    assess_s: float  # the best of three calls to assess, seconds


def timed_assess(mel: np.ndarray, duration_s: float) -> tuple[Evidence, float]:
    """The verdict and the best of three timings of :func:`assess` (seconds)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        verdict = assess(mel, duration_s=duration_s)
        best = min(best, time.perf_counter() - start)
    return verdict, best


def measure(
    name: str, expected: str, source: bytes | Path, *, max_duration_s: float | None
) -> tuple[Measured, np.ndarray]:
    """Decode ``source`` with the front end and assess it; also returns the log-mel."""
    samples = load_audio(source, max_duration_s=max_duration_s)
    mel = log_mel(samples)
    verdict, seconds = timed_assess(mel, samples.shape[0] / SR)
    return Measured(name, expected, verdict, seconds), mel


def excerpt_verdicts(
    mel: np.ndarray, duration_s: float, rng: np.random.Generator
) -> Iterator[tuple[float, Evidence]]:
    """:data:`EXCERPTS_PER_FILE` random excerpts of each length in :data:`EXCERPT_S` that fits,
    cut from the whole-signal log-mel (edges differ from a separately decoded clip by a frame)."""
    for seconds in EXCERPT_S:
        n = 1 + round(seconds * SR) // HOP_LENGTH
        if seconds > duration_s or n > mel.shape[0]:
            continue
        for start in rng.integers(0, mel.shape[0] - n + 1, size=EXCERPTS_PER_FILE):
            yield seconds, assess(mel[start : start + n], duration_s=seconds)


def judged_right(m: Measured) -> bool:
    """Evidence where none is expected to be missing, else the expected reason among the reasons."""
    return m.expected in m.verdict.reasons if m.expected else m.verdict.present
