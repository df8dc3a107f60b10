"""Helpers that build tiny fake extracted Debian packages with generated audio."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 8000


def tone(seconds: float, *, freq: float = 440.0, rate: int = RATE) -> np.ndarray:
    """A quiet sine, float32."""
    t = np.arange(round(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_ogg(path: Path, seconds: float, *, artist: str | None = None, freq: float = 440.0) -> Path:
    """An Ogg Vorbis file, optionally with an ARTIST tag (libsndfile cannot write COMPOSER)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(str(path), "w", samplerate=RATE, channels=1, format="OGG", subtype="VORBIS") as f:
        if artist is not None:
            f.artist = artist
        f.write(tone(seconds, freq=freq))
    return path


def write_wav(path: Path, seconds: float, *, freq: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(seconds, freq=freq), RATE, subtype="PCM_16")
    return path


def write_raw_gsm(path: Path, seconds: float, *, freq: float = 440.0) -> Path:
    """A headerless GSM 6.10 file, like asterisk's ``.gsm`` prompts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(seconds, freq=freq), RATE, format="RAW", subtype="GSM610")
    return path


def ogg_page(packets: list[bytes], *, serial: int = 1, seq: int = 0) -> bytes:
    """One Ogg page holding ``packets`` (CRC left zero: the tag reader does not check it)."""
    lacing = bytearray()
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    header = b"OggS" + bytes([0, 0]) + struct.pack("<qIII", 0, serial, seq, 0) + bytes([len(lacing)])
    return header + bytes(lacing) + b"".join(packets)


def vorbis_comment_packet(entries: list[str], *, vendor: str = "test") -> bytes:
    body = struct.pack("<I", len(vendor)) + vendor.encode()
    body += struct.pack("<I", len(entries))
    for e in entries:
        raw = e.encode()
        body += struct.pack("<I", len(raw)) + raw
    return b"\x03vorbis" + body + b"\x01"


def write_tagged_ogg(path: Path, entries: list[str]) -> Path:
    """A minimal Ogg stream whose Vorbis comment header holds ``entries`` (no audio packets)."""
    ident = b"\x01vorbis" + b"\x00" * 23
    path.write_bytes(ogg_page([ident], seq=0) + ogg_page([vorbis_comment_packet(entries)], seq=1))
    return path
