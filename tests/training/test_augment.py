"""Waveform augmentation: each effect, and copies that keep labels and group and only join train."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from frontend.audio import SAMPLE_RATE
from tests.conftest import tone, write_audio
from training.augment import (
    EFFECTS_FILE,
    AugmentConfig,
    add_noise,
    apply_gain,
    augment_waveform,
    augmented_split,
    band_limit,
    build_augmented_cache,
    codec_round_trip,
    mix_music,
    music_excerpt,
    sing_like,
)
from training.catalog import load_catalog
from training.prepare import mel_path, prepare, read_index


def _power_at(x: np.ndarray, freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    return float(spectrum[round(freq * len(x) / SAMPLE_RATE)])


def _db(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(a.astype(np.float64) ** 2) / np.mean(b.astype(np.float64) ** 2)))


def test_band_limit_and_codec_remove_high_frequencies() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    x = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    y = band_limit(x, low_hz=300, high_hz=3400)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _power_at(y, 6000) < 1e-4 * _power_at(x, 6000)
    assert _power_at(y, 1000) > 0.5 * _power_at(x, 1000)
    for codec in ("gsm", "ulaw"):
        z = codec_round_trip(x, codec=codec)
        assert z.shape == x.shape
        assert _power_at(z, 6000) < 1e-2 * _power_at(x, 6000)
        assert _power_at(z, 1000) > 0.1 * _power_at(x, 1000)
    with pytest.raises(ValueError, match="unknown codec 'mp3'"):
        codec_round_trip(x, codec="mp3")
    with pytest.raises(ValueError, match=r"need 0 < low_hz < high_hz < 8000\.0, got 500, 300"):
        band_limit(x, low_hz=500, high_hz=300)


def test_gain_noise_and_music_levels() -> None:
    x = tone(2.0)
    assert np.allclose(apply_gain(x, gain_db=-20), x * 0.1, atol=1e-6)
    assert np.abs(apply_gain(x, gain_db=20)).max() == 1.0  # clipped
    noisy = add_noise(x, snr_db=10, rng=np.random.default_rng(0))
    assert abs(_db(x, noisy - x) - 10) < 0.2
    music = tone(2.0, freq=97.0, seed=3)
    mixed = mix_music(x, music, snr_db=6)
    assert abs(_db(x, mixed - x) - 6) < 0.01
    with pytest.raises(ValueError, match=r"music shape \(10,\) != signal shape"):
        mix_music(x, music[:10], snr_db=0)


def test_chain_is_seeded_and_never_empty(tmp_path: Path) -> None:
    music = [write_audio(tmp_path / "m.flac", tone(1.0, freq=100.0), SAMPLE_RATE)]
    assert music_excerpt(music[0], 3 * SAMPLE_RATE, np.random.default_rng(0)).shape == (3 * SAMPLE_RATE,)
    x = tone(3.0)
    config = AugmentConfig(p_music=0, p_noise=0, p_band=0, p_codec=0, p_gain=0.0)
    y, steps = augment_waveform(x, config=config, rng=np.random.default_rng(0), music=music)
    assert y.shape == x.shape and len(steps) == 1
    everything = AugmentConfig(p_music=1, p_noise=1, p_band=1, p_codec=1, p_gain=1)
    a, steps_a = augment_waveform(x, config=everything, rng=np.random.default_rng(5), music=music)
    b, steps_b = augment_waveform(x, config=everything, rng=np.random.default_rng(5), music=music)
    assert np.array_equal(a, b) and steps_a == steps_b
    assert [s.split("(")[0] for s in steps_a] == ["music", "noise", "band", "codec", "gain"]
    assert AugmentConfig(copies=1).chain_key() == AugmentConfig(copies=3).chain_key()
    assert AugmentConfig(p_gain=0.4).chain_key() != AugmentConfig().chain_key()
    with pytest.raises(ValueError, match=r"gain_db must be \(low, high\) with low <= high, got \(3.0, 1.0\)"):
        AugmentConfig(gain_db=(3.0, 1.0))


def test_copies_keep_labels_and_group_and_join_train_only(tmp_path: Path) -> None:
    rows = ["path,artist,language,group"]
    for k in range(6):
        write_audio(tmp_path / f"s{k}.flac", tone(3.5, freq=200.0 + 50 * k, seed=k), SAMPLE_RATE)
        rows.append(f"s{k}.flac,a{k % 2},{'en' if k % 2 else 'fr'},g{k}")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    base, out = tmp_path / "cache", tmp_path / "aug"
    prepare(load_catalog(tmp_path / "manifest.csv"), base, jobs=1)
    songs = read_index(base)
    assignment = dict(zip([s.song_id for s in songs], ["train"] * 3 + ["val", "test", "test"], strict=True))
    train = [s for s in songs if assignment[s.song_id] == "train"]
    copies = build_augmented_cache(base, out, train, config=AugmentConfig(copies=2), jobs=1)

    indexed = {s.song_id: s for s in read_index(out)}
    assert len(indexed) == 6 + 3 * 2
    for src in train:
        for cid in copies[src.song_id]:
            assert indexed[cid].labels == src.labels and indexed[cid].group == src.group
            assert not np.array_equal(np.load(mel_path(out, cid)), np.load(mel_path(base, src.song_id)))
    assert mel_path(out, songs[0].song_id).stat().st_ino == mel_path(base, songs[0].song_id).stat().st_ino
    with (out / EFFECTS_FILE).open() as f:
        assert len(list(csv.DictReader(f))) == 6

    copies_of_all = {**copies, songs[4].song_id: ["would-be-test-copy"]}
    split = augmented_split(assignment, copies_of_all)
    assert {k: v for k, v in split.items() if k in assignment} == assignment  # val/test untouched
    added = set(split) - set(assignment)
    assert added == {c for s in train for c in copies[s.song_id]}
    assert {split[c] for c in added} == {"train"}

    before = mel_path(out, copies[train[0].song_id][0]).stat().st_mtime_ns
    build_augmented_cache(base, out, train, config=AugmentConfig(copies=2), jobs=1)  # resumable
    assert mel_path(out, copies[train[0].song_id][0]).stat().st_mtime_ns == before


def test_sing_like_moves_the_pitch_by_the_speed_and_wobbles_it() -> None:
    t = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE
    x = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    y = sing_like(x, speed=1.25, vibrato_cents=0.0)
    assert abs(len(y) - len(x) / 1.25) <= 2
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(y) - 250.0) < 2.0  # 200 Hz read 1.25 x faster
    wobbly = sing_like(x, speed=1.0, vibrato_cents=100.0)
    crossings = np.flatnonzero(np.diff(np.signbit(wobbly)))
    periods = np.diff(crossings[::2]) / SAMPLE_RATE
    assert 1 / periods.max() < 195 and 1 / periods.min() > 205  # a semitone either way: 189-212 Hz
    with pytest.raises(ValueError, match="speed > 0"):
        sing_like(x, speed=0.0, vibrato_cents=0.0)


def test_the_sing_step_leaves_the_keys_of_chains_without_it_alone() -> None:
    assert AugmentConfig().chain_key() == "90d25180"  # as before the step existed: old caches still match
    assert AugmentConfig(p_sing=0.5).chain_key() != AugmentConfig().chain_key()
    rng = np.random.default_rng(0)
    singing = AugmentConfig(p_sing=1.0, p_noise=0.0, p_band=0.0, p_codec=0.0, p_gain=0.0)
    y, steps = augment_waveform(np.full(SAMPLE_RATE, 0.1, dtype=np.float32), config=singing, rng=rng)
    assert steps[0].startswith("sing(x") and len(y) != SAMPLE_RATE
