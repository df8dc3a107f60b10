"""frontend.evidence: noise, silence, tones and clicks have no evidence; music and speech have some.

The inputs go through the real decode path (soundfile WAV/FLAC bytes, ``load_audio``, ``log_mel``)
at 16 kHz and at other rates and levels; the corpus is ``bench.evidence``'s, so the benchmark and
the tests judge the same signals.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from bench.evidence_corpus import ESPEAK_TEXTS, espeak, synthetic_speech
from frontend.audio import N_MELS, SAMPLE_RATE, load_audio, log_mel
from frontend.evidence import MIN_AUDIBLE_S, REASONS, Evidence, assess
from training.signals import Item, encode, no_evidence_corpus, synthetic_track


def judge(data: bytes | Path, **kwargs: float) -> Evidence:
    samples = load_audio(data)
    return assess(log_mel(samples), duration_s=samples.size / SAMPLE_RATE, **kwargs)


@lru_cache(maxsize=1)
def corpus() -> tuple[tuple[Item, Evidence], ...]:
    return tuple((item, judge(item.data)) for item in no_evidence_corpus())


@lru_cache(maxsize=4)
def music(seconds: float, rate: int = 44_100) -> np.ndarray:
    """``training.signals.synthetic_track`` (a melody of harmonic notes plus noise), decoded."""
    with tempfile.TemporaryDirectory() as tmp:
        return load_audio(synthetic_track(Path(tmp) / "m.flac", seconds=seconds, rate=rate))


def judge_samples(samples: np.ndarray, **kwargs: float) -> Evidence:
    return assess(log_mel(samples), duration_s=samples.size / SAMPLE_RATE, **kwargs)


@pytest.mark.parametrize("reason", [r for r in REASONS if r != "too_short"] + ["too_short"])
def test_every_corpus_item_has_no_evidence_for_its_reason(reason: str) -> None:
    items = [(item, verdict) for item, verdict in corpus() if item.expected == reason]
    assert items, f"the corpus has no {reason} item"
    wrong = [f"{item.name}: {verdict.describe()}" for item, verdict in items if reason not in verdict.reasons]
    assert not wrong, "\n".join(wrong)
    assert not any(verdict.present for _, verdict in items)


def test_the_corpus_covers_the_rates_levels_and_formats() -> None:
    names = [item.name for item, _ in corpus()]
    for needle in ("@16000", "@44100", "@8000", "-6 dBFS", "-35 dBFS", "pink", "brown", "-80 dBFS", "DC"):
        assert any(needle in name for name in names), needle
    for freq in (100, 1000, 5000):
        assert any(f"sine {freq} Hz" in name for name in names)
    truncated = next(item for item, _ in corpus() if "truncated" in item.name)
    assert len(truncated.data) == 300 and load_audio(truncated.data).size < SAMPLE_RATE // 100


@pytest.mark.parametrize(("seconds", "rate"), [(30.0, 44_100), (30.0, 16_000), (4.0, 48_000)])
def test_music_like_audio_has_evidence(seconds: float, rate: int) -> None:
    verdict = judge_samples(music(seconds, rate))
    assert verdict.present, verdict.describe()
    assert verdict.reasons == ()
    assert verdict.audible_s == pytest.approx(seconds, abs=0.05)
    assert verdict.variation > 0.3


@pytest.mark.parametrize(("seed", "rate"), [(0, 16_000), (1, 16_000), (2, 8_000), (3, 44_100)])
def test_speech_like_audio_has_evidence(seed: int, rate: int) -> None:
    data = encode(synthetic_speech(12.0, rate=rate, seed=seed), rate)
    verdict = judge(data)
    assert verdict.present, verdict.describe()
    assert 5.0 < verdict.audible_s < 12.0  # syllables and pauses
    assert verdict.variation > 0.25


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)"
)
@pytest.mark.parametrize(("voice", "text"), ESPEAK_TEXTS)
def test_espeak_speech_has_evidence(voice: str, text: str) -> None:
    data = espeak(text, voice)
    assert data is not None
    verdict = judge(data)
    assert verdict.present, verdict.describe()


def test_clips_around_the_minimum() -> None:
    short, enough = music(MIN_AUDIBLE_S - 0.1, SAMPLE_RATE), music(MIN_AUDIBLE_S + 0.3, SAMPLE_RATE)
    assert judge_samples(short).reasons == ("too_short",)
    assert judge_samples(enough).present
    # The same sound with a lower minimum, or a higher one.
    assert judge_samples(short, min_audible_s=1.5).present
    assert judge_samples(enough, min_audible_s=3.0).reasons == ("too_short",)


def test_only_the_audible_seconds_count() -> None:
    burst = music(1.5, SAMPLE_RATE)
    padded = np.concatenate(
        [np.zeros(5 * SAMPLE_RATE, np.float32), burst, np.zeros(5 * SAMPLE_RATE, np.float32)]
    )
    verdict = judge_samples(padded)
    assert verdict.reasons == ("silence",)
    assert verdict.audible_s == pytest.approx(1.5, abs=0.1)
    # Enough sound among long silences is evidence: the silences are left out of every measure.
    sparse = np.concatenate([padded, music(3.0, SAMPLE_RATE), np.zeros(20 * SAMPLE_RATE, np.float32)])
    assert judge_samples(sparse).present


def test_the_padding_of_a_short_clip_is_ignored() -> None:
    noise = (0.1 * np.random.default_rng(0).standard_normal(int(2.5 * SAMPLE_RATE))).astype(np.float32)
    mel = log_mel(noise)
    assert mel.shape[0] > 2.5 * SAMPLE_RATE / 256 + 2  # zero-padded to one segment
    verdict = assess(mel, duration_s=2.5)
    assert verdict.reasons == ("stationary_noise",)
    assert verdict.audible_s == pytest.approx(2.5, abs=0.05)


def test_dense_clicks_over_silence_are_clicks() -> None:
    clicks = np.zeros(20 * SAMPLE_RATE, np.float32)
    clicks[:: SAMPLE_RATE // 10] = 0.9  # ten a second
    verdict = judge_samples(clicks)
    assert verdict.reasons == ("clicks",)
    assert verdict.audible_s > MIN_AUDIBLE_S > verdict.sustained_s


def test_quiet_music_has_evidence_and_music_80_db_down_is_silence() -> None:
    samples = music(10.0, SAMPLE_RATE)
    assert judge_samples(samples * np.float32(10 ** (-30 / 20))).present  # peaks near -36 dBFS
    assert judge_samples(samples * np.float32(10 ** (-80 / 20))).reasons == ("silence",)


def test_describe_is_one_sentence_with_the_figures() -> None:
    tone = next(v for item, v in corpus() if item.name == "sine 1000 Hz @16000")
    text = tone.describe()
    assert text.startswith("No evidence (a constant tone near 1") and text.endswith(".")
    assert "30.0 s audible of 30.0 s" in text and "\n" not in text
    assert judge_samples(music(4.0, SAMPLE_RATE)).describe().startswith("Evidence present: 4.0 s audible")
    silent = next(v for item, v in corpus() if item.name == "digital silence @16000")
    assert silent.describe() == "No evidence (too little sound): 0.0 s audible of 30.0 s."
    assert math.isnan(silent.variation) and math.isnan(silent.loudest_hz) and silent.max_level == 0.0


def test_the_verdict_is_frozen_and_reasons_are_known_words() -> None:
    verdict = corpus()[0][1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.reasons = ()  # type: ignore[misc]
    assert all(reason in REASONS for _, v in corpus() for reason in v.reasons)


@pytest.mark.parametrize(
    ("mel", "match"),
    [
        (np.zeros(100, np.float32), r"shape \(n_frames, 96\).*\(100,\)"),
        (np.zeros((100, 64), np.float32), r"\(100, 64\)"),
        (np.zeros((0, N_MELS), np.float32), r"\(0, 96\)"),
        (np.full((200, N_MELS), np.nan, np.float32), "NaN or infinite"),
    ],
)
def test_bad_mels_are_refused(mel: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        assess(mel, duration_s=2.0)


@pytest.mark.parametrize("duration", [0.0, -1.0, math.nan, math.inf])
def test_bad_durations_are_refused(duration: float) -> None:
    with pytest.raises(ValueError, match=f"duration_s must be.*got {duration!r}"):
        assess(np.zeros((200, N_MELS), np.float32), duration_s=duration)


def test_a_duration_longer_than_the_mel_is_refused() -> None:
    with pytest.raises(ValueError, match=r"duration_s=10.0 needs 626 frames but mel has 200"):
        assess(np.zeros((200, N_MELS), np.float32), duration_s=10.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("min_audible_s", 0.0), ("min_run_s", -0.1), ("block_s", math.nan), ("silence_floor", 0.0)],
)
def test_bad_tuning_arguments_are_refused(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        assess(np.zeros((200, N_MELS), np.float32), duration_s=2.0, **{name: value})


def test_wav_and_flac_of_the_same_noise_agree() -> None:
    noise = (0.1 * np.random.default_rng(3).standard_normal(5 * 22_050)).astype(np.float32)
    wav, flac = judge(encode(noise, 22_050)), judge(encode(noise, 22_050, "FLAC"))
    assert wav.reasons == flac.reasons == ("stationary_noise",)
    assert wav.variation == pytest.approx(flac.variation, abs=1e-3)


def test_a_three_minute_song_takes_milliseconds() -> None:
    mel = (np.random.default_rng(0).random((11_250, N_MELS)) * 4).astype(np.float32)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        assess(mel, duration_s=180.0)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.05  # about 2 ms on a 2-core server; generous for loaded CI machines
