"""A corpus of bad and unusual uploads: each gets its documented status, never a 5xx,
and the service answers the next valid request normally."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from frontend.evidence import MIN_AUDIBLE_S
from tests.service.conftest import AppFactory, upload
from tests.service.samples import encode, melody


def wav_bytes(data: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def wav_claiming_gigabytes() -> bytes:
    """A valid 16 kHz header whose RIFF and data sizes claim ~4 GiB; 0.5 s of samples follow."""
    samples = (melody(0.5, 16_000)[:, 0] * 32767).astype("<i2").tobytes()
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16_000, 32_000, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFF0)
        + b"WAVE"
        + fmt
        + b"data"
        + struct.pack("<I", 0xFFFFFFF0)
        + samples
    )


def nan_wav() -> bytes:
    return wav_bytes(np.full((16_000, 1), np.nan, dtype=np.float32), 16_000, subtype="FLOAT")


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@dataclass(frozen=True)
class Case:
    status: int
    send: Callable[[TestClient], httpx.Response]
    code: str | None = None
    check: Callable[[dict[str, Any]], None] | None = None


def file_case(
    status: int,
    data: bytes,
    *,
    filename: str = "song",
    code: str | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> Case:
    return Case(status, lambda c: upload(c, data, filename=filename), code, check)


def duration(expected: float, segments: int = 1) -> Callable[[dict[str, Any]], None]:
    """The analysed duration; under the evidence minimum nothing is classified and every task says so."""

    def check(body: dict[str, Any]) -> None:
        assert body["duration_s"] == pytest.approx(expected, abs=0.05)
        if body["duration_s"] < MIN_AUDIBLE_S:
            assert body["n_segments"] == 0
            assert {d["status"] for d in body["decisions"].values()} == {"no_evidence"}
            assert all(scores == [] for scores in body["predictions"].values())
        else:
            assert body["n_segments"] == segments

    return check


def partial(full: float) -> Callable[[dict[str, Any]], None]:
    """What could be decoded before the cut: some audio, less than the whole."""

    def check(body: dict[str, Any]) -> None:
        assert 0 < body["duration_s"] < full

    return check


CORPUS: dict[str, Case] = {
    # the request itself is wrong
    "empty body": Case(400, lambda c: c.post("/predict"), "invalid_input"),
    "empty multipart": Case(
        400,
        lambda c: c.post(
            "/predict", content=b"", headers={"content-type": "multipart/form-data; boundary=x"}
        ),
        "invalid_input",
    ),
    "missing file field": Case(
        400, lambda c: c.post("/predict", data={"note": "hi"}, files={"x": ("a", b"")}), "invalid_input"
    ),
    "wrong field name": Case(
        400,
        lambda c: c.post("/predict", files={"audio": ("a.wav", encode("wav"), "audio/wav")}),
        "invalid_input",
    ),
    "empty file": file_case(400, b"", code="invalid_input"),
    "raw audio body": Case(
        415,
        lambda c: c.post("/predict", content=encode("wav"), headers={"content-type": "audio/wav"}),
        "unsupported_media_type",
    ),
    "json body": Case(415, lambda c: c.post("/predict", json={"file": "song.mp3"}), "unsupported_media_type"),
    "form body": Case(415, lambda c: c.post("/predict", data={"file": "x"}), "unsupported_media_type"),
    # the file is not audio we can analyse
    "random bytes": file_case(415, np.random.default_rng(1).bytes(50_000), code="unsupported_media_type"),
    "text named .mp3": file_case(
        415, b"Just some lyrics, la la la.\n" * 200, filename="song.mp3", code="unsupported_media_type"
    ),
    "truncated flac": file_case(415, half(encode("flac")), code="unsupported_media_type"),
    "flac header only": file_case(415, encode("flac")[:200], code="unsupported_media_type"),
    "ogg header only": file_case(415, encode("ogg")[:400], code="unsupported_media_type"),
    "mp3 first bytes": file_case(415, encode("mp3")[:300], code="unsupported_media_type"),
    "wav of NaN": file_case(415, nan_wav(), code="unsupported_media_type"),
    "zero-length wav": file_case(
        415, wav_bytes(np.zeros((0, 1), np.float32), 16_000), code="unsupported_media_type"
    ),
    "wav header cut": file_case(415, encode("wav")[:30], code="unsupported_media_type"),
    # unusual but valid audio: analysed
    "truncated wav": file_case(200, half(encode("wav", seconds=4.0)), check=duration(2.0)),
    "truncated ogg": file_case(200, half(encode("ogg", seconds=8.0)), check=partial(8.0)),
    "truncated mp3": file_case(200, half(encode("mp3", seconds=8.0)), check=partial(8.0)),
    "wav claiming gigabytes": file_case(200, wav_claiming_gigabytes(), check=duration(0.5)),
    "0.1 s": file_case(200, encode("wav", seconds=0.1), check=duration(0.1)),
    "96 kHz stereo": file_case(
        200, encode("flac", seconds=3.5, rate=96_000, channels=2), check=duration(3.5)
    ),
    "8 kHz mono": file_case(200, encode("wav", seconds=3.5, rate=8_000), check=duration(3.5)),
    "24-bit": file_case(200, encode("wav", seconds=3.5, subtype="PCM_24"), check=duration(3.5)),
    "6 channels": file_case(200, encode("flac", seconds=3.5, rate=48_000, channels=6), check=duration(3.5)),
    "path traversal name": file_case(200, encode("ogg"), filename="../../../../etc/passwd"),
    "absolute path name": file_case(200, encode("ogg"), filename="/var/lib/songid/evil.ogg"),
    "control characters": file_case(200, encode("ogg"), filename="a\x00b\x07c\x1b[2J\r\nd.ogg"),
    "very long unicode name": file_case(200, encode("ogg"), filename="曲" * 1000 + "🎵.ogg"),
    "name beyond the part-header limit": file_case(
        400, encode("ogg"), filename="曲" * 5000, code="invalid_input"
    ),
    "empty name": file_case(200, encode("ogg"), filename=""),
}


@pytest.fixture(scope="module")
def valid_song() -> bytes:
    return encode("mp3", seconds=3.5)


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_input_gets_its_status_and_the_service_carries_on(
    client: TestClient, valid_song: bytes, name: str
) -> None:
    case = CORPUS[name]
    response = case.send(client)
    assert response.status_code < 500
    assert response.status_code == case.status, response.text
    body = response.json()
    if case.status >= 400:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message"}
        assert body["error"]["message"]
        if case.code is not None:
            assert body["error"]["code"] == case.code
    elif case.check is not None:
        case.check(body)
    after = upload(client, valid_song, filename="next.mp3")
    assert after.status_code == 200
    assert after.json()["n_segments"] == 1


def test_a_small_file_that_decodes_to_hours_is_cut_at_the_duration_cap(make_client: AppFactory) -> None:
    hour_of_silence = io.BytesIO()
    sf.write(hour_of_silence, np.zeros(3600 * 8_000, np.float32), 8_000, format="FLAC")
    data = hour_of_silence.getvalue()
    assert len(data) < 1_000_000  # a small upload that expands to 115 MB of samples
    client = make_client(max_duration_s=30.0)
    response = upload(client, data, filename="silence.flac")
    assert response.status_code == 200, response.text
    assert response.json()["duration_s"] == pytest.approx(30.0)
    assert response.json()["n_segments"] == 0  # decoded up to the cap, then nothing to recognise
    assert response.json()["decisions"]["artist"]["status"] == "no_evidence"
