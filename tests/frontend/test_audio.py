from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from frontend import audio
from frontend.audio import (
    N_MELS,
    SAMPLE_RATE,
    SEGMENT_FRAMES,
    AudioDecodeError,
    load_audio,
    log_mel,
    segment,
    segment_times,
    segments_from_audio,
)
from tests.conftest import tone


def test_constants_are_derived_from_the_papers_choices() -> None:
    assert (SEGMENT_FRAMES, N_MELS) == (187, 96)
    assert audio.SEGMENT_SAMPLES == 3 * SAMPLE_RATE
    assert audio.INPUT_SHAPE == (187, 96, 1)
    assert audio.FRONTEND_PARAMS["segment_frames"] == SEGMENT_FRAMES


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "opus", "mp3"])
def test_every_format_decodes_to_mono_16k(audio_file, ext: str) -> None:
    path = audio_file(f"a.{ext}", seconds=4.0, sr=48_000 if ext == "opus" else 44_100, channels=2)
    x = load_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(x.size / SAMPLE_RATE - 4.0) < 0.1  # codecs add at most a little padding
    assert 0.05 < np.abs(x).max() <= 1.0


def test_path_bytes_and_file_object_give_the_same_mel(audio_file) -> None:
    path = audio_file("a.flac", seconds=5.0)
    data = path.read_bytes()
    from_path, _ = segments_from_audio(path)
    from_bytes, _ = segments_from_audio(data)
    from_file, _ = segments_from_audio(io.BytesIO(data))
    np.testing.assert_array_equal(from_path, from_bytes)
    np.testing.assert_array_equal(from_path, from_file)


@pytest.mark.parametrize("sr", [8_000, 16_000, 44_100, 96_000])
def test_resampling_keeps_duration_and_pitch(tmp_path: Path, sr: int) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, tone(2.0, sr=sr, freq=1000.0), sr)
    x = load_audio(path)
    assert x.size == pytest.approx(2 * SAMPLE_RATE, abs=2)
    spectrum = np.abs(np.fft.rfft(x))
    assert np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == pytest.approx(1000.0, abs=2)


def test_stereo_is_the_mean_of_its_channels(tmp_path: Path) -> None:
    left, right = tone(1.0, freq=300.0), tone(1.0, freq=500.0, seed=1)
    path = tmp_path / "s.wav"
    sf.write(path, np.stack([left, right], axis=1), SAMPLE_RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_max_duration_stops_decoding(audio_file) -> None:
    path = audio_file("long.flac", seconds=20.0)
    assert load_audio(path, max_duration_s=5.0).size == 5 * SAMPLE_RATE


def test_mel_shape_and_log_compression() -> None:
    mel = log_mel(tone(6.0))
    assert mel.shape == (1 + 6 * SAMPLE_RATE // audio.HOP_LENGTH, N_MELS)
    assert mel.dtype == np.float32
    assert mel.min() >= 0.0  # log10(1 + 10000 S) with S >= 0
    assert np.allclose(log_mel(np.zeros(SAMPLE_RATE * 3, np.float32)), 0.0)


def test_segments_are_non_overlapping_3s_windows() -> None:
    data = _wav_bytes(tone(10.0))
    segments, duration = segments_from_audio(data)
    assert segments.shape == (3, SEGMENT_FRAMES, N_MELS, 1)
    assert duration == pytest.approx(10.0)
    mel = log_mel(load_audio(data))
    np.testing.assert_array_equal(segments[1, :, :, 0], mel[SEGMENT_FRAMES : 2 * SEGMENT_FRAMES])
    start, end = segment_times(3)[1]
    assert start == pytest.approx(SEGMENT_FRAMES * 256 / SAMPLE_RATE) and end - start == pytest.approx(2.992)


def test_a_training_hop_overlaps_segments() -> None:
    mel = log_mel(tone(10.0))
    assert segment(mel, hop_frames=SEGMENT_FRAMES // 2).shape[0] == 1 + (mel.shape[0] - SEGMENT_FRAMES) // 93


@pytest.mark.parametrize("seconds", [0.1, 1.0, 2.9])
def test_short_audio_is_one_padded_segment(seconds: float) -> None:
    segments, duration = segments_from_audio(_wav_bytes(tone(seconds)))
    assert segments.shape == (1, SEGMENT_FRAMES, N_MELS, 1)
    assert duration == pytest.approx(seconds, abs=1e-3)


def _wav_bytes(x: np.ndarray, sr: int = SAMPLE_RATE, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"\x00\x01garbage" * 100, "format"),
        (b"hello, I am a text file pretending to be an mp3\n" * 20, "format"),
        (_wav_bytes(np.zeros(0, np.float32)), "no audio frames"),
        (_wav_bytes(np.full(1600, np.nan, np.float32), subtype="FLOAT"), "NaN"),
    ],
)
def test_bad_input_raises_one_typed_error(data: bytes, message: str) -> None:
    with pytest.raises(AudioDecodeError, match=message):
        load_audio(data)


def test_truncated_files_raise_or_decode_what_is_there(audio_file) -> None:
    for ext in ("wav", "flac", "ogg", "mp3"):
        data = audio_file(f"t.{ext}", seconds=3.0).read_bytes()
        cut = data[: len(data) // 2]
        try:
            x = load_audio(cut)
        except AudioDecodeError:
            continue
        assert 0 < x.size <= 3 * SAMPLE_RATE and np.isfinite(x).all()
    with pytest.raises(AudioDecodeError):
        load_audio(audio_file("h.wav", seconds=1.0).read_bytes()[:30])


def test_bad_arguments_name_the_value() -> None:
    with pytest.raises(ValueError, match="max_duration_s"):
        load_audio(b"x", max_duration_s=0)
    with pytest.raises(ValueError, match="hop_frames"):
        segment(np.zeros((200, N_MELS), np.float32), hop_frames=0)
    with pytest.raises(ValueError, match="mono"):
        log_mel(np.zeros((10, 2), np.float32))
