"""Reading a request body under a byte cap, an idle timeout and a minimum rate.

Every route that takes a body reads it through :func:`body_chunks`, before it asks for a
prediction slot (:mod:`service.admission`): a slow or stalled client holds a connection,
never a slot. The cap is checked against ``Content-Length`` before the first byte is read
and against the bytes received as they come.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from time import monotonic
from typing import BinaryIO, cast

from starlette.requests import ClientDisconnect, Request

from service.errors import BodyTimeoutError, InvalidInputError, PayloadTooLargeError
from service.limits import BodyLimits


def check_declared_length(request: Request, max_bytes: int) -> None:
    """413 when ``Content-Length`` announces more than ``max_bytes``; 400 when it is not a number."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise InvalidInputError("invalid Content-Length header")
    if int(declared) > max_bytes:
        raise PayloadTooLargeError(
            f"request body of {int(declared)} bytes exceeds the limit of {max_bytes} bytes"
        )


async def body_chunks(request: Request, limits: BodyLimits) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive, within ``limits``.

    Raises:
        PayloadTooLargeError: the body is, or announces to be, larger than ``max_bytes``.
        BodyTimeoutError: a pause longer than ``idle_timeout_s``, or a body slower on average
            than ``min_bytes_per_s`` once ``idle_timeout_s`` has passed.
        InvalidInputError: the client disconnected before the end of the body.
    """
    check_declared_length(request, limits.max_bytes)
    stream = request.stream().__aiter__()
    started = monotonic()
    received = 0
    while True:
        try:
            async with asyncio.timeout(limits.idle_timeout_s):  # no task per chunk, unlike wait_for
                chunk = await anext(stream)
        except StopAsyncIteration:
            return
        except TimeoutError as e:
            raise BodyTimeoutError(
                f"no request body bytes for {limits.idle_timeout_s:g} s ({received} received)"
            ) from e
        except ClientDisconnect as e:
            raise InvalidInputError("client disconnected before the end of the request body") from e
        received += len(chunk)
        if received > limits.max_bytes:
            raise PayloadTooLargeError(f"request body exceeds the limit of {limits.max_bytes} bytes")
        elapsed = monotonic() - started
        if (
            limits.min_bytes_per_s
            and elapsed > limits.idle_timeout_s
            and received < limits.min_bytes_per_s * elapsed
        ):
            raise BodyTimeoutError(
                f"request body arriving at {received / elapsed:.0f} bytes/s, "
                f"below the minimum of {limits.min_bytes_per_s} bytes/s"
            )
        yield chunk


SpoolFactory = Callable[[], BinaryIO]


def spool_factory(*, max_memory_bytes: int, tmp_dir: Path | None = None) -> SpoolFactory:
    def make() -> BinaryIO:
        # Closed by Upload.close, or on any error while receiving; spilled files are unlinked.
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=max_memory_bytes, mode="w+b", dir=None if tmp_dir is None else str(tmp_dir)
        )
        return cast(BinaryIO, spool)

    return make


async def spool_body(request: Request, limits: BodyLimits, make_spool: SpoolFactory) -> BinaryIO:
    """The whole body in a spooled file (memory up to the spool's threshold, then disk), read from
    the start; closed on any failure. Many clients sending large bodies at once cost disk, not memory.
    """
    spool = make_spool()
    try:
        async for chunk in body_chunks(request, limits):
            spool.write(chunk)
        spool.seek(0)
        return spool
    except BaseException:
        spool.close()
        raise
