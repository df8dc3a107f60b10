"""The limits of one analysis, shared by the service and the batch tagger: one default and one bound each;
and what one request body and one connection may cost (enforced by :mod:`service.body` and
:mod:`service.protocol`; kept here, free of the web framework, so Settings is too).

:class:`service.settings.Settings` and :class:`service.batch.tagging.TagOptions` take their
defaults and bounds from here, so ``songid-serve`` and ``songid-tag`` analyse a file alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

MIB: Final = 1024 * 1024

MAX_TOP_K: Final = 100  # labels returned per task; a task has at most a few hundred
MIN_DECODED_BYTES: Final = 16 * MIB  # below this even a short stereo song would be refused
MAX_BATCH_SIZE: Final = 1024  # a bigger ONNX Runtime batch only costs memory


@dataclass(frozen=True, kw_only=True)
class AnalysisLimits:
    """What analysing one file may cost.

    Raises:
        ValueError: a value out of its bounds, naming the field and the value.
    """

    # 10 minutes: longer than nearly every song; decoding stops there, the rest is not analysed.
    max_duration_s: float = 600.0
    # Decoded float32 PCM (all channels, plus the 16 kHz copy) a file's header may promise:
    # 10 minutes of 48 kHz 7.1 fits, hours of many-channel silence packed in a small FLAC do not.
    max_decoded_bytes: int = 768 * MIB
    # Segments per ONNX Runtime call: as fast as 32 on CPU, with far less memory (reports/perf.md).
    batch_size: int = 8

    def __post_init__(self) -> None:
        if not self.max_duration_s > 0:
            raise ValueError(f"max_duration_s must be > 0, got {self.max_duration_s}")
        if self.max_decoded_bytes < MIN_DECODED_BYTES:
            raise ValueError(
                f"max_decoded_bytes must be at least {MIN_DECODED_BYTES}, got {self.max_decoded_bytes}"
            )
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {self.batch_size}")


DEFAULT_LIMITS: Final = AnalysisLimits()


class HasLimits(Protocol):
    """Settings that carry the three limits as flat fields (the service's, the tagger's)."""

    @property
    def max_duration_s(self) -> float: ...
    @property
    def max_decoded_bytes(self) -> int: ...
    @property
    def batch_size(self) -> int: ...


def limits_of(source: HasLimits) -> AnalysisLimits:
    """The :class:`AnalysisLimits` of ``source`` (checked)."""
    return AnalysisLimits(
        max_duration_s=source.max_duration_s,
        max_decoded_bytes=source.max_decoded_bytes,
        batch_size=source.batch_size,
    )


def check_top_k(top_k: int) -> int:
    """``top_k`` when it is between 1 and :data:`MAX_TOP_K`; else :class:`ValueError` naming it."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    return top_k


@dataclass(frozen=True, kw_only=True)
class BodyLimits:
    """How much a request body may hold and how slowly it may come.

    Attributes:
        max_bytes: largest body; beyond it 413.
        idle_timeout_s: longest pause between two chunks; then 408. Also the grace period
            before the minimum rate applies.
        min_bytes_per_s: slowest average rate once ``idle_timeout_s`` has passed; 0: none.
    """

    max_bytes: int
    idle_timeout_s: float
    min_bytes_per_s: int = 0


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    """What one connection may cost.

    Attributes:
        header_timeout_s: seconds to deliver a complete request head (after opening, or after
            the previous response); then 408 and closed.
        max_header_bytes: bytes in a request head (request line and header fields), however
            it arrives; beyond it 400 and closed.
        max_header_fields: header fields in a request head; beyond it 400 and closed.
        send_timeout_s: seconds a response may wait with the client reading none of it (the
            socket's buffers full); then the connection is closed.
    """

    header_timeout_s: float = 10.0
    max_header_bytes: int = 16 * 1024
    max_header_fields: int = 100
    send_timeout_s: float = 10.0
