"""Streaming multipart reception: byte cap, cleanup on every failure, no use of the filename."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from starlette.requests import Request

from service.body import BodyLimits, spool_factory
from service.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from service.upload import Upload, receive_upload

BOUNDARY = "songidboundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(parts: Iterable[tuple[str, str | None, bytes]], *, close: bool = True) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


class FakeClient:
    """An ASGI receive() feeding a body in chunks, optionally disconnecting after some."""

    def __init__(self, body: bytes, *, chunk: int = 1024, disconnect_after: int | None = None) -> None:
        self.chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
        self.disconnect_after = disconnect_after
        self.sent = 0

    async def receive(self) -> dict[str, Any]:
        if self.disconnect_after is not None and self.sent >= self.disconnect_after:
            return {"type": "http.disconnect"}
        chunk = self.chunks[self.sent]
        self.sent += 1
        return {"type": "http.request", "body": chunk, "more_body": self.sent < len(self.chunks)}


def make_request(receive: Callable[[], Awaitable[dict[str, Any]]], headers: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "query_string": b"",
    }
    return Request(scope, receive)  # type: ignore[arg-type]


class RecordingSpools:
    """A spool factory that remembers every file it made, to check they get closed."""

    def __init__(self, tmp_dir: Path) -> None:
        self.made: list[BinaryIO] = []
        self._make = spool_factory(max_memory_bytes=0, tmp_dir=tmp_dir)  # spill to disk at once

    def __call__(self) -> BinaryIO:
        spool = self._make()
        self.made.append(spool)
        return spool


def receive(
    body: bytes,
    tmp_path: Path,
    *,
    content_type: str | None = CONTENT_TYPE,
    max_bytes: int = 1 << 20,
    declare_length: bool = False,
    client: FakeClient | None = None,
) -> tuple[Upload, RecordingSpools, FakeClient]:
    client = client or FakeClient(body)
    headers = {"content-type": content_type} if content_type is not None else {}
    if declare_length:
        headers["content-length"] = str(len(body))
    spools = RecordingSpools(tmp_path)
    upload = asyncio.run(
        receive_upload(
            make_request(client.receive, headers),
            limits=BodyLimits(max_bytes=max_bytes, idle_timeout_s=10.0),
            make_spool=spools,
        )
    )
    return upload, spools, client


def test_keeps_the_file_part_and_ignores_other_fields(tmp_path: Path) -> None:
    audio = os.urandom(5000)
    body = multipart([("comment", None, b"hello"), ("file", "song.mp3", audio), ("extra", None, b"x")])
    upload, spools, _ = receive(body, tmp_path)
    try:
        assert upload.size == len(audio)
        assert upload.file.read() == audio
    finally:
        upload.close()
    assert len(spools.made) == 1 and spools.made[0].closed


def test_a_file_field_without_filename_is_accepted(tmp_path: Path) -> None:
    upload, _, _ = receive(multipart([("file", None, b"RIFFdata")]), tmp_path)
    assert upload.file.read() == b"RIFFdata"
    upload.close()


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../etc/songid-owned",
        "/tmp/songid-abs",
        "con\x07trol\x1b[31m\t.wav",
        "é" * 2000 + ".mp3",
        "..",
    ],
)
def test_the_client_filename_never_becomes_a_path(tmp_path: Path, filename: str) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    upload, _, _ = receive(multipart([("file", filename, b"x" * 4096)]), spill)
    try:
        assert list(spill.iterdir()) == []  # spilled spools are anonymous, unlinked files
        assert not Path("/etc/songid-owned").exists()
        assert not Path("/tmp/songid-abs").exists()
        assert upload.file.read() == b"x" * 4096
    finally:
        upload.close()


def test_stops_reading_as_soon_as_the_cap_is_passed(tmp_path: Path) -> None:
    body = multipart([("file", "big.wav", b"\0" * 200_000)])
    client = FakeClient(body, chunk=1000)
    with pytest.raises(PayloadTooLargeError, match="10000 bytes"):
        receive(body, tmp_path, max_bytes=10_000, client=client)
    assert client.sent <= 11  # not the 200 chunks the client wanted to send


def test_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    body = multipart([("file", "big.wav", b"\0" * 50_000)])
    client = FakeClient(body)
    with pytest.raises(PayloadTooLargeError):
        receive(body, tmp_path, max_bytes=10_000, declare_length=True, client=client)
    assert client.sent == 0


def test_files_are_closed_when_the_cap_is_passed(tmp_path: Path) -> None:
    body = multipart([("file", "big.wav", b"\0" * 50_000)])
    spools = RecordingSpools(tmp_path)
    request = make_request(FakeClient(body).receive, {"content-type": CONTENT_TYPE})
    with pytest.raises(PayloadTooLargeError):
        asyncio.run(
            receive_upload(
                request, limits=BodyLimits(max_bytes=20_000, idle_timeout_s=10.0), make_spool=spools
            )
        )
    assert spools.made and all(f.closed for f in spools.made)


def test_client_disconnect_closes_the_spool(tmp_path: Path) -> None:
    body = multipart([("file", "song.wav", b"\1" * 20_000)])
    spools = RecordingSpools(tmp_path)
    client = FakeClient(body, chunk=1000, disconnect_after=5)
    request = make_request(client.receive, {"content-type": CONTENT_TYPE})
    with pytest.raises(InvalidInputError, match="disconnected"):
        asyncio.run(
            receive_upload(
                request, limits=BodyLimits(max_bytes=1 << 20, idle_timeout_s=10.0), make_spool=spools
            )
        )
    assert len(spools.made) == 1 and spools.made[0].closed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "content_type", "error", "message"),
    [
        (b'{"file": "x"}', "application/json", UnsupportedMediaError, "multipart/form-data"),
        (b"file=abc", "application/x-www-form-urlencoded", UnsupportedMediaError, "multipart/form-data"),
        (b"", None, InvalidInputError, "no file uploaded"),
        (b"abc", "multipart/form-data", InvalidInputError, "boundary"),
        (multipart([("audio", "a.wav", b"abc")]), CONTENT_TYPE, InvalidInputError, "missing multipart field"),
        (multipart([]), CONTENT_TYPE, InvalidInputError, "missing multipart field"),
        (multipart([("file", "a.wav", b"")]), CONTENT_TYPE, InvalidInputError, "empty"),
        (multipart([("file", "a.wav", b"abc")], close=False), CONTENT_TYPE, InvalidInputError, "incomplete"),
        (
            multipart([("file", "a.wav", b"abc"), ("file", "b.wav", b"def")]),
            CONTENT_TYPE,
            InvalidInputError,
            "more than one",
        ),
        (multipart([(f"f{i}", None, b"x") for i in range(40)]), CONTENT_TYPE, InvalidInputError, "too many"),
        (b"--wrongboundary\r\n garbage", CONTENT_TYPE, InvalidInputError, "malformed"),
        (multipart([("file", "a\r\nb.wav", b"abc")]), CONTENT_TYPE, InvalidInputError, "malformed"),
    ],
    ids=[
        "json",
        "urlencoded",
        "no-content-type",
        "no-boundary",
        "wrong-field",
        "no-parts",
        "empty-file",
        "unterminated",
        "two-files",
        "too-many-parts",
        "garbage",
        "crlf-in-filename",
    ],
)
def test_malformed_requests(
    tmp_path: Path, body: bytes, content_type: str | None, error: type[Exception], message: str
) -> None:
    spools = RecordingSpools(tmp_path)
    headers = {"content-type": content_type} if content_type else {}
    request = make_request(FakeClient(body).receive, headers)
    with pytest.raises(error, match=message):
        asyncio.run(
            receive_upload(
                request, limits=BodyLimits(max_bytes=1 << 20, idle_timeout_s=10.0), make_spool=spools
            )
        )
    assert all(f.closed for f in spools.made)
