"""The audio front end shared by training and the service: decode, log-mel, segment.

Every signal constant lives here and the others are derived from them, so the
network's input shape (187 frames x 96 bands) follows from the paper's choices
(16 kHz, n_fft 512, hop 256, 96 mel bands, 3-second segments) rather than being
repeated as magic numbers elsewhere.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from typing import BinaryIO, Final

import numpy as np
import soundfile as sf
import soxr

SAMPLE_RATE: Final = 16_000  # Hz, after resampling
N_FFT: Final = 512  # 32 ms window at 16 kHz
HOP_LENGTH: Final = 256  # 16 ms hop
N_MELS: Final = 96
F_MIN: Final = 0.0
F_MAX: Final = SAMPLE_RATE / 2
LOG_OFFSET: Final = 1.0  # log10(LOG_OFFSET + LOG_SCALE * S)
LOG_SCALE: Final = 10_000.0
SEGMENT_SECONDS: Final = 3
SEGMENT_SAMPLES: Final = SEGMENT_SECONDS * SAMPLE_RATE  # 48000
SEGMENT_FRAMES: Final = SEGMENT_SAMPLES // HOP_LENGTH  # 187: hops that start inside 3 s
FRAME_SECONDS: Final = HOP_LENGTH / SAMPLE_RATE  # seconds advanced per frame
INPUT_SHAPE: Final = (SEGMENT_FRAMES, N_MELS, 1)  # one network input, channels last

#: What a trained model depends on. Exported beside every model and compared on load.
FRONTEND_PARAMS: Final[dict[str, int | float | str | bool]] = {
    "sample_rate": SAMPLE_RATE,
    "n_fft": N_FFT,
    "hop_length": HOP_LENGTH,
    "n_mels": N_MELS,
    "f_min": F_MIN,
    "f_max": F_MAX,
    "mel_scale": "slaney",
    "window": "hann",
    "center": True,
    "power": 2.0,
    "log_offset": LOG_OFFSET,
    "log_scale": LOG_SCALE,
    "segment_frames": SEGMENT_FRAMES,
}

AudioSource = str | os.PathLike[str] | bytes | BinaryIO


class AudioDecodeError(ValueError):
    """The input is not audio we can analyse; the message says what is wrong."""


def _open(source: AudioSource) -> sf.SoundFile:
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise AudioDecodeError("empty input: 0 bytes")
        source = io.BytesIO(bytes(source))
    try:
        return sf.SoundFile(source)
    except sf.LibsndfileError as e:
        raise AudioDecodeError(f"unrecognised or unsupported audio format: {e.error_string}") from e
    except (RuntimeError, TypeError, OSError) as e:
        raise AudioDecodeError(f"cannot open audio: {e}") from e


def load_audio(source: AudioSource, *, max_duration_s: float | None = None) -> np.ndarray:
    """Decode wav, flac, ogg/vorbis, opus or mp3 to mono float32 at ``SAMPLE_RATE``.

    Args:
        source: a path, the encoded bytes, or a binary file object.
        max_duration_s: stop decoding after this many seconds of audio (a 10-hour
            file is never decoded whole); ``None`` decodes everything.

    Returns:
        samples, shape ``(n,)``, float32 in about [-1, 1], at 16 kHz.

    Raises:
        AudioDecodeError: unknown format, truncated stream, no audio frames or
            non-finite samples.
    """
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be > 0, got {max_duration_s!r}")
    with _open(source) as f:
        native_sr = int(f.samplerate)
        if native_sr <= 0:
            raise AudioDecodeError(f"invalid sample rate in header: {native_sr}")
        limit = -1 if max_duration_s is None else int(np.ceil(max_duration_s * native_sr))
        try:
            data = f.read(frames=limit, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioDecodeError(f"corrupt or truncated audio stream: {e}") from e
    if data.shape[0] == 0:
        raise AudioDecodeError("no audio frames could be decoded")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(mono).all():
        raise AudioDecodeError("audio contains NaN or infinite samples")
    if native_sr != SAMPLE_RATE:
        mono = soxr.resample(mono, native_sr, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


# The log-mel is computed with numpy alone: the same numbers as librosa's centred STFT
# (zero padding, periodic Hann window, float64 FFT stored as complex64) and Slaney mel
# filters, without importing librosa, scipy and numba (about 200 MB of memory and two
# seconds of start-up in the service). tests/bench checks both against librosa.
_STFT_BLOCK_FRAMES: Final = 1024  # frames per FFT call: bounds the float64 scratch to 4 MiB


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above (as ``librosa.hz_to_mel``)."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mels = hz / f_sp
    log_t = hz >= min_log_hz
    mels[log_t] = min_log_mel + np.log(hz[log_t] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel` (as ``librosa.mel_to_hz``)."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    freqs = f_sp * mels
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """Slaney-normalised triangular filters, ``(N_MELS, 1 + N_FFT // 2)`` float32.

    The same values as ``librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS,
    fmin=F_MIN, fmax=F_MAX)``.
    """
    fft_freqs = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    mel_edges = np.linspace(_hz_to_mel(np.array([F_MIN]))[0], _hz_to_mel(np.array([F_MAX]))[0], N_MELS + 2)
    mel_f = _mel_to_hz(mel_edges)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((N_MELS, 1 + N_FFT // 2), dtype=np.float32)
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, np.newaxis]
    return weights


@lru_cache(maxsize=1)
def _hann_window() -> np.ndarray:
    """Periodic Hann window of ``N_FFT`` samples, float64 (as ``scipy.signal.get_window``)."""
    return (0.5 + 0.5 * np.cos(np.linspace(-np.pi, np.pi, N_FFT + 1)))[:N_FFT]


def stft_power(samples: np.ndarray) -> np.ndarray:
    """Power spectrogram ``|STFT|^2``, shape ``(n_frames, 1 + N_FFT // 2)`` float32.

    Centred frames (``N_FFT // 2`` zeros on both sides), ``HOP_LENGTH`` apart, periodic Hann
    window: ``librosa.stft(samples, n_fft=N_FFT, hop_length=HOP_LENGTH, window="hann",
    center=True)`` squared, transposed.
    """
    padded = np.pad(samples, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    window = _hann_window()
    power = np.empty((frames.shape[0], 1 + N_FFT // 2), dtype=np.float32)
    for start in range(0, frames.shape[0], _STFT_BLOCK_FRAMES):
        block = slice(start, start + _STFT_BLOCK_FRAMES)
        spectrum = np.fft.rfft(window * frames[block], axis=-1).astype(np.complex64)
        np.square(np.abs(spectrum), out=power[block])
    return power


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Log-compressed mel power spectrogram of a whole signal.

    Args:
        samples: mono float32 at ``SAMPLE_RATE``, shape ``(n,)``; shorter than one
            segment is zero-padded to ``SEGMENT_SAMPLES``.

    Returns:
        ``log10(1 + 10000 * S)``, shape ``(n_frames, N_MELS)``, float32, frames
        ``HOP_LENGTH`` samples apart (centred STFT, Hann window).
    """
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D mono, got shape {samples.shape}")
    if samples.shape[0] < SEGMENT_SAMPLES:
        samples = np.pad(samples, (0, SEGMENT_SAMPLES - samples.shape[0]))
    mel = stft_power(samples) @ _mel_basis().T  # (n_frames, N_MELS)
    return np.log10(LOG_OFFSET + LOG_SCALE * mel).astype(np.float32, copy=False)


def segment(mel: np.ndarray, *, hop_frames: int = SEGMENT_FRAMES) -> np.ndarray:
    """Cut a log-mel spectrogram into fixed-length segments.

    Args:
        mel: shape ``(n_frames, N_MELS)``.
        hop_frames: frames between segment starts; ``SEGMENT_FRAMES`` (default)
            gives non-overlapping 3 s segments, smaller values overlap (training).

    Returns:
        shape ``(n_segments, SEGMENT_FRAMES, N_MELS)``; at least one segment (a
        short input is zero-padded in the log domain, i.e. silence). The tail
        shorter than a segment is dropped when there is at least one full segment.
    """
    if hop_frames < 1:
        raise ValueError(f"hop_frames must be >= 1, got {hop_frames}")
    if mel.ndim != 2 or mel.shape[1] != N_MELS:
        raise ValueError(f"mel must have shape (n_frames, {N_MELS}), got {mel.shape}")
    if mel.shape[0] < SEGMENT_FRAMES:
        mel = np.pad(mel, ((0, SEGMENT_FRAMES - mel.shape[0]), (0, 0)))
    n_segments = 1 + (mel.shape[0] - SEGMENT_FRAMES) // hop_frames
    windows = np.lib.stride_tricks.sliding_window_view(mel, SEGMENT_FRAMES, axis=0)[::hop_frames]
    # sliding_window_view puts the window axis last: (n, N_MELS, SEGMENT_FRAMES)
    return np.ascontiguousarray(windows[:n_segments].transpose(0, 2, 1))


def segments_from_audio(
    source: AudioSource, *, max_duration_s: float | None = None, hop_frames: int = SEGMENT_FRAMES
) -> tuple[np.ndarray, float]:
    """Decode, compute the log-mel and cut it into network inputs.

    Returns:
        ``(segments, duration_s)``: segments shape ``(n, SEGMENT_FRAMES, N_MELS, 1)``
        float32, and the analysed audio duration in seconds.
    """
    samples = load_audio(source, max_duration_s=max_duration_s)
    segments = segment(log_mel(samples), hop_frames=hop_frames)
    return segments[..., np.newaxis], samples.shape[0] / SAMPLE_RATE


def segment_times(n_segments: int, *, hop_frames: int = SEGMENT_FRAMES) -> list[tuple[float, float]]:
    """Start and end, in seconds, of each segment produced by :func:`segment`."""
    return [
        (i * hop_frames * FRAME_SECONDS, (i * hop_frames + SEGMENT_FRAMES) * FRAME_SECONDS)
        for i in range(n_segments)
    ]
