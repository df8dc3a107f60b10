from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.logging import JsonFormatter, RepeatFilter, accept_request_id, configure_logging, request_id_var
from tests.service.conftest import AppFactory, upload


def test_request_ids_from_clients_are_accepted_only_when_plain() -> None:
    assert accept_request_id("abc-123_x.y:z") == "abc-123_x.y:z"
    for hostile in ["", "a b", "x" * 129, "line\nbreak", '"quoted"', "é"]:
        made = accept_request_id(hostile)
        assert made != hostile and len(made) == 32
    assert len(accept_request_id(None)) == 32


def test_formatter_writes_one_json_object_with_request_id_and_fields() -> None:
    record = logging.LogRecord("songid", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.fields = {"status": 200}
    token = request_id_var.set("req-1")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-1"
    assert entry["status"] == 200
    assert entry["level"] == "info"
    assert "\n" not in line


def test_access_log_has_the_request_id_and_no_secrets(
    make_client: AppFactory, wav_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    client: TestClient = make_client(api_keys="very-secret-key")
    caplog.set_level(logging.INFO)
    response = upload(
        client,
        wav_bytes,
        filename="../../private name.wav",
        headers={"X-API-Key": "very-secret-key", "X-Request-ID": "trace-42"},
    )
    assert response.status_code == 200
    access = [r for r in caplog.records if r.name == "service.access"]
    assert access, "no access log line"
    formatted = [JsonFormatter().format(r) for r in caplog.records]
    assert any('"request_id": "trace-42"' in line and '"route": "/predict"' in line for line in formatted)
    everything = "\n".join(formatted)
    assert "very-secret-key" not in everything
    assert "private name" not in everything
    assert "RIFF" not in everything


class JsonLines(logging.Handler):
    """Formats at emit time, as the real handler does (the request id is a context variable)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_unexpected_errors_keep_the_request_id(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()

    async def broken() -> None:
        raise RuntimeError("database password is hunter2")

    client.app.add_api_route("/broken", broken)  # type: ignore[attr-defined]
    caplog.set_level(logging.INFO)
    emitted = JsonLines()
    logging.getLogger("service.errors").addHandler(emitted)
    try:
        response = client.get("/broken", headers={"X-Request-ID": "trace-500"})
    finally:
        logging.getLogger("service.errors").removeHandler(emitted)
    assert any(line["request_id"] == "trace-500" and "hunter2" in line["exception"] for line in emitted.lines)
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500"
    assert response.json() == {"error": {"code": "internal_error", "message": "internal server error"}}
    assert "hunter2" not in response.text
    errors = [r for r in caplog.records if r.message == "unhandled error"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    access = [r for r in caplog.records if r.name == "service.access"]
    assert access[-1].fields["status"] == 500  # type: ignore[attr-defined]


def test_probes_are_logged_at_debug_and_traffic_at_info(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    caplog.set_level(logging.DEBUG, logger="service.access")
    for path in ("/healthz", "/readyz", "/v2/health/live", "/labels", "/nowhere"):
        client.get(path)
    levels = {r.fields["route"]: r.levelno for r in caplog.records if r.name == "service.access"}  # type: ignore[attr-defined]
    assert levels == {
        "/healthz": logging.DEBUG,
        "/readyz": logging.DEBUG,
        "/v2/health/live": logging.DEBUG,
        "/labels": logging.INFO,
        "unmatched": logging.INFO,
    }


def test_warnings_become_json_records(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("INFO")
        with warnings.catch_warnings(), np.errstate(over="warn"):
            warnings.simplefilter("always")
            np.float32(3e38) * np.float32(10)
    finally:
        logging.captureWarnings(False)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines, "the warning was not logged"
    records = [json.loads(line) for line in lines]  # every line is a JSON record
    assert any(r["logger"] == "py.warnings" and "overflow" in r["message"] for r in records)


def test_repeated_failures_are_held_back_per_code() -> None:
    repeat = RepeatFilter(interval_s=60.0)

    def failed(code: str) -> logging.LogRecord:
        record = logging.LogRecord(
            "service.errors", logging.WARNING, __file__, 1, "request failed", None, None
        )
        record.fields = {"code": code}
        return record

    assert repeat.filter(failed("overloaded"))
    assert not any(repeat.filter(failed("overloaded")) for _ in range(100))
    assert repeat.filter(failed("request_timeout"))  # another code is another message
