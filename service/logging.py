"""Structured logs: one JSON object per line on stderr, carrying the request id.

Log calls add fields with ``extra={"fields": {...}}``. Nothing logs request bodies,
audio, uploaded filenames or credentials; the access log records method, route,
status and timing only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("songid_request_id", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_INTERVAL_S = 10.0


def accept_request_id(header: str | None) -> str:
    """The client's X-Request-ID when it is a short, plain token; otherwise a fresh one."""
    if header is not None and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """Let a message through once per ``interval_s``; the next one says how many were held back.

    Messages are alike when their logger, text and error code (the ``code`` field) are.
    """

    def __init__(self, interval_s: float = LOG_INTERVAL_S) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._last: dict[tuple[str, str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        fields = getattr(record, "fields", None)
        code = str(fields.get("code", "")) if isinstance(fields, dict) else ""
        key = (record.name, str(record.msg), code)
        now = time.monotonic()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self.interval_s:
            self._last[key] = (last, held + 1)
            return False
        self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.interval_s:g} s)"
        if record.exc_info and held:
            record.exc_info = None  # the first one had the traceback
        return True


def quiet_repeats(*names: str, interval_s: float = LOG_INTERVAL_S) -> RepeatFilter:
    """Install one :class:`RepeatFilter` on each named logger."""
    repeat = RepeatFilter(interval_s)
    for name in names:
        logging.getLogger(name).addFilter(repeat)
    return repeat


def configure_logging(level: str = "INFO") -> None:
    """Send the service's and the server's logs, and Python's warnings (numpy's included), to
    stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # The middleware writes the access log, with the request id; the server's would duplicate it.
    logging.getLogger("uvicorn.access").disabled = True
    # warnings.warn (e.g. numpy's RuntimeWarning on overflow) would print plain lines on stderr.
    logging.captureWarnings(True)
