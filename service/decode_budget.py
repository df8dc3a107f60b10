"""Refuse files whose header promises more decoded audio than the service will hold.

A few kilobytes of FLAC or MP3 can describe hours of many-channel, high-rate silence;
decoding stops at the maximum duration, but channels x sample rate still scale memory.
This looks at the header only and leaves unreadable files to the front end, which
reports them with its own message.
"""

from __future__ import annotations

import math
from typing import BinaryIO

import soundfile as sf

from frontend.audio import SAMPLE_RATE
from service.domain_errors import PayloadTooLargeError

FLOAT32_BYTES = 4


def decoded_bytes(samplerate: int, channels: int, frames: int, max_duration_s: float) -> int:
    """Peak bytes of float32 PCM for the first ``max_duration_s`` seconds, plus the 16 kHz copy."""
    if samplerate <= 0 or channels <= 0:
        return 0
    kept = min(max(frames, 0), math.ceil(max_duration_s * samplerate))
    resampled = math.ceil(kept / samplerate * SAMPLE_RATE)
    return (kept * channels + kept + resampled) * FLOAT32_BYTES


def check_decode_budget(source: BinaryIO, *, max_duration_s: float, max_bytes: int) -> None:
    """Raise :class:`PayloadTooLargeError` when decoding would exceed ``max_bytes``; rewinds ``source``."""
    try:
        with sf.SoundFile(source) as f:
            need = decoded_bytes(int(f.samplerate), int(f.channels), int(f.frames), max_duration_s)
    except Exception:  # not readable as audio: the decoder says why
        return
    finally:
        source.seek(0)
    if need > max_bytes:
        raise PayloadTooLargeError(
            f"decoding this file would need about {need // 2**20} MiB, over the limit of "
            f"{max_bytes // 2**20} MiB (too many channels or too high a sample rate)"
        )
