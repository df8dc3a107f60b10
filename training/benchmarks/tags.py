"""Read the comment tags (ARTIST=..., COMPOSER=...) of Ogg Vorbis and Ogg Opus files.

libsndfile exposes only a few fixed fields and no COMPOSER, so the comment header
is parsed here: Ogg pages are reassembled into packets until the Vorbis comment
packet (``\\x03vorbis``) or the ``OpusTags`` packet is complete.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_MAX_HEADER_BYTES = 16 * 1024 * 1024  # comment packets with cover art can be large
_HEADER_PACKETS = 3  # identification, comment, setup (Vorbis) / head, tags (Opus)


class TagError(ValueError):
    """The file is not an Ogg stream whose comment header can be read."""


def _ogg_packets(f: BinaryIO, *, max_bytes: int) -> Iterator[bytes]:
    """Yield packets of the first logical stream, stopping after ``max_bytes`` read."""
    packet = b""
    read = 0
    serial: int | None = None
    while read < max_bytes:
        header = f.read(27)
        if len(header) < 27:
            return
        if header[:4] != b"OggS":
            raise TagError(f"bad Ogg page at byte {read}")
        page_serial = struct.unpack_from("<I", header, 14)[0]
        lacing = f.read(header[26])
        body = f.read(sum(lacing))
        read += 27 + len(lacing) + len(body)
        if serial is None:
            serial = page_serial
        if page_serial != serial:  # another multiplexed stream: not ours
            continue
        pos = 0
        for size in lacing:
            packet += body[pos : pos + size]
            pos += size
            if size < 255:
                yield packet
                packet = b""


def _parse_comments(packet: bytes, offset: int) -> dict[str, list[str]]:
    try:
        (vendor_len,) = struct.unpack_from("<I", packet, offset)
        offset += 4 + vendor_len
        (count,) = struct.unpack_from("<I", packet, offset)
        offset += 4
        tags: dict[str, list[str]] = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<I", packet, offset)
            offset += 4
            entry = packet[offset : offset + length].decode("utf-8", errors="replace")
            offset += length
            key, sep, value = entry.partition("=")
            if sep:
                tags.setdefault(key.strip().upper(), []).append(value.strip())
    except struct.error as e:
        raise TagError(f"truncated comment header: {e}") from e
    return tags


def parse_comment_packet(packet: bytes) -> dict[str, list[str]] | None:
    """Tags of a Vorbis comment or OpusTags packet, ``None`` for any other packet."""
    if packet.startswith(b"\x03vorbis"):
        return _parse_comments(packet, 7)
    if packet.startswith(b"OpusTags"):
        return _parse_comments(packet, 8)
    return None


def read_tags(path: Path) -> dict[str, list[str]]:
    """All comment tags of an Ogg Vorbis/Opus file, keys upper-cased, values in file order.

    Raises:
        TagError: not an Ogg file, or no comment header within the first packets.
    """
    try:
        with path.open("rb") as f:
            for i, packet in enumerate(_ogg_packets(f, max_bytes=_MAX_HEADER_BYTES)):
                tags = parse_comment_packet(packet)
                if tags is not None:
                    return tags
                if i >= _HEADER_PACKETS:
                    break
    except OSError as e:
        raise TagError(f"cannot read {path}: {e}") from e
    raise TagError(f"no Vorbis/Opus comment header in {path}")


def first_tag(tags: dict[str, list[str]], *keys: str) -> tuple[str, str] | None:
    """The first non-empty value among ``keys`` (in priority order) as ``(key, value)``."""
    for key in keys:
        for value in tags.get(key, []):
            if value.strip():
                return key, value.strip()
    return None
