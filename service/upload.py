"""Stream a multipart upload into a spooled temporary file, under a hard byte cap.

The request body is read chunk by chunk; the first byte past the cap ends the read with
413, so a client cannot make the service store more than the cap. Only the part named
``file`` is kept: its bytes go to a :class:`tempfile.SpooledTemporaryFile` (memory up
to a threshold, then an unlinked temporary file), which is closed on every failure,
including a client that disconnects. The client's filename is never read: nothing
here ever builds a path from request data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from service.body import BodyLimits, SpoolFactory, body_chunks
from service.errors import InvalidInputError, UnsupportedMediaError

FILE_FIELD = "file"
MAX_PARTS = 16  # the form has one field; a few extra are ignored, more are refused


class Upload:
    """The uploaded file's bytes, readable and seekable from the start; close when done."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self.file = file
        self.size = size

    def close(self) -> None:
        self.file.close()


class _FileCollector:
    """python-multipart callbacks that keep the ``file`` part and count everything else."""

    def __init__(self, make_spool: SpoolFactory) -> None:
        self._make_spool = make_spool
        self.file: BinaryIO | None = None
        self.size = 0
        self.file_complete = False
        self.ended = False
        self._parts = 0
        self._in_file = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidInputError(f"too many multipart parts (at most {MAX_PARTS})")
        self._in_file = False
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") != FILE_FIELD.encode():
            return
        if self.file is not None:
            raise InvalidInputError(f"more than one {FILE_FIELD!r} part")
        self.file = self._make_spool()
        self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file and self.file is not None:
            self.file.write(data[start:end])
            self.size += end - start

    def _part_end(self) -> None:
        if self._in_file:
            self.file_complete = True
            self._in_file = False

    def _end(self) -> None:
        self.ended = True


def _boundary(request: Request) -> bytes:
    content_type = request.headers.get("content-type")
    if not content_type:
        raise InvalidInputError(f"no file uploaded: send multipart/form-data with a {FILE_FIELD!r} field")
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        shown = content_type.split(";")[0][:100]
        raise UnsupportedMediaError(
            f"expected a multipart/form-data body with a {FILE_FIELD!r} field, got content type {shown!r}"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInputError("multipart/form-data content type without a boundary")
    return boundary


async def receive_upload(request: Request, *, limits: BodyLimits, make_spool: SpoolFactory) -> Upload:
    """Read the request's ``file`` part into a spooled file.

    Raises:
        UnsupportedMediaError: the body has a content type other than multipart/form-data.
        PayloadTooLargeError: the body is, or announces to be, larger than ``limits.max_bytes``.
        BodyTimeoutError: the body stalled or came too slowly (:mod:`service.body`).
        InvalidInputError: no body, malformed or incomplete multipart, no ``file`` part, an empty file,
            or a client that disconnected mid-upload.
    """
    boundary = _boundary(request)
    collector = _FileCollector(make_spool)
    try:
        try:
            parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
            async for chunk in body_chunks(request, limits):
                parser.write(chunk)
            parser.finalize()
        except FormParserError as e:
            raise InvalidInputError(f"malformed multipart body: {e}") from e
        if collector.file is None:
            raise InvalidInputError(f"missing multipart field {FILE_FIELD!r}")
        if not (collector.ended and collector.file_complete):
            raise InvalidInputError("incomplete multipart body (no closing boundary)")
        if collector.size == 0:
            raise InvalidInputError("the uploaded file is empty")
        collector.file.seek(0)
        return Upload(collector.file, collector.size)
    except BaseException:
        if collector.file is not None:
            collector.file.close()
        raise
