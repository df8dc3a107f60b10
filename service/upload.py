"""Stream a multipart upload into a spooled temporary file, under a hard byte cap.

The request body is read chunk by chunk; the first byte past the cap ends the read with
413, so a client cannot make the service store more than the cap. Only the part named
``file`` is kept: its bytes go to a :class:`tempfile.SpooledTemporaryFile` (memory up
to a threshold, then an unlinked temporary file), which is closed on every failure,
including a client that disconnects. The client's filename is kept only to name a file in
an error message: nothing here ever builds a path from request data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from service.body import BodyLimits, SpoolFactory, body_chunks
from service.errors import InvalidInputError, UnsupportedMediaError

FILE_FIELD = "file"
MAX_PARTS = 16  # parts other than files: a few extra are ignored, more are refused
MAX_TEXT_BYTES = 1024  # a text field (an artist id or name) is short


class Upload:
    """The uploaded file's bytes, readable and seekable from the start; close when done."""

    def __init__(self, file: BinaryIO, size: int, filename: str = "") -> None:
        self.file = file
        self.size = size
        self.filename = filename  # as the client sent it, for messages only (never a path)

    def close(self) -> None:
        self.file.close()

    @property
    def shown(self) -> str:
        """How a message names this file: its client-side name, shortened, quoted."""
        return repr(self.filename[:100]) if self.filename else "(no name)"


@dataclass
class Form:
    """A received multipart form: its ``file`` parts and its small text fields."""

    files: list[Upload] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        for upload in self.files:
            upload.close()


class _FormCollector:
    """python-multipart callbacks that keep the ``file`` parts and the named text fields."""

    def __init__(self, make_spool: SpoolFactory, *, max_files: int, text_fields: tuple[str, ...]) -> None:
        self._make_spool = make_spool
        self._max_files = max_files
        self._text_fields = text_fields
        self.form = Form()
        self.ended = False
        self._parts = 0
        self._in_file = False
        self._open_file: Upload | None = None
        self._text: tuple[str, bytearray] | None = None
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
        most = MAX_PARTS + self._max_files - 1
        if self._parts > most:
            raise InvalidInputError(f"too many multipart parts (at most {most})")
        self._open_file = None
        self._text = None
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
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if name in self._text_fields:
            if name in self.form.fields:
                raise InvalidInputError(f"more than one {name!r} field")
            self._text = (name, bytearray())
            return
        if name != FILE_FIELD:
            return
        if len(self.form.files) >= self._max_files:
            raise InvalidInputError(
                f"more than one {FILE_FIELD!r} part"
                if self._max_files == 1
                else f"too many files: at most {self._max_files} {FILE_FIELD!r} parts"
            )
        filename = options.get(b"filename", b"").decode("utf-8", errors="replace")
        self._open_file = Upload(self._make_spool(), 0, filename)
        self.form.files.append(self._open_file)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._open_file is not None:
            self._open_file.file.write(data[start:end])
            self._open_file.size += end - start
        elif self._text is not None:
            self._text[1].extend(data[start:end])
            if len(self._text[1]) > MAX_TEXT_BYTES:
                raise InvalidInputError(f"field {self._text[0]!r} is longer than {MAX_TEXT_BYTES} bytes")

    def _part_end(self) -> None:
        if self._open_file is not None:
            self._open_file.file.seek(0)
            self._open_file = None
        elif self._text is not None:
            name, value = self._text
            try:
                self.form.fields[name] = value.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise InvalidInputError(f"field {name!r} is not UTF-8 text") from e
            self._text = None

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


async def receive_form(
    request: Request,
    *,
    limits: BodyLimits,
    make_spool: SpoolFactory,
    max_files: int,
    text_fields: tuple[str, ...] = (),
) -> Form:
    """Read the request's ``file`` parts (1 to ``max_files``) into spooled files, and its text fields
    named in ``text_fields`` (at most MAX_TEXT_BYTES each); other parts are skipped.

    Raises:
        UnsupportedMediaError: the body has a content type other than multipart/form-data.
        PayloadTooLargeError: the body is, or announces to be, larger than ``limits.max_bytes``.
        BodyTimeoutError: the body stalled or came too slowly (:mod:`service.body`).
        InvalidInputError: no body, malformed or incomplete multipart, no ``file`` part, too many,
            an empty file (named), or a client that disconnected mid-upload.
    """
    boundary = _boundary(request)
    collector = _FormCollector(make_spool, max_files=max_files, text_fields=text_fields)
    try:
        try:
            parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
            async for chunk in body_chunks(request, limits):
                parser.write(chunk)
            parser.finalize()
        except FormParserError as e:
            raise InvalidInputError(f"malformed multipart body: {e}") from e
        form = collector.form
        if not form.files:
            raise InvalidInputError(f"missing multipart field {FILE_FIELD!r}")
        if not collector.ended or collector._open_file is not None:
            raise InvalidInputError("incomplete multipart body (no closing boundary)")
        empty = [upload.shown for upload in form.files if upload.size == 0]
        if empty:
            raise InvalidInputError(
                "the uploaded file is empty" if max_files == 1 else f"empty file(s): {', '.join(empty)}"
            )
        return form
    except BaseException:
        collector.form.close()
        raise


async def receive_upload(request: Request, *, limits: BodyLimits, make_spool: SpoolFactory) -> Upload:
    """Read the request's one ``file`` part into a spooled file (see :func:`receive_form`)."""
    form = await receive_form(request, limits=limits, make_spool=make_spool, max_files=1)
    return form.files[0]
