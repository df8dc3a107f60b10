"""HTTP load on ``POST /predict``: one timed request, and a closed loop of several clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Upload:
    """One request body: what to send as the multipart field and the status it must get."""

    name: str
    content: bytes
    form_field: str = "file"
    params: Mapping[str, str] = field(default_factory=dict)
    expected: int = 200


@dataclass(frozen=True)
class Outcome:
    upload: str
    status: int  # 0: no HTTP answer (connection error or client timeout)
    seconds: float
    started: float  # seconds since the load began
    expected: int


Answer = tuple[int, float]  # (HTTP status, 0 when there was none; seconds)


def timed(send: Callable[[], httpx.Response]) -> Answer:
    """Runs ``send`` and reads its body; returns (status or 0 for a transport error, seconds)."""
    started = time.perf_counter()
    try:
        response = send()
        response.read()
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    return status, time.perf_counter() - started


def post(client: httpx.Client, url: str, upload: Upload) -> Answer:
    """POST /predict once; returns (status or 0 for a transport error, seconds)."""
    files = {upload.form_field: ("upload.bin", upload.content, "application/octet-stream")}
    return timed(lambda: client.post(f"{url}/predict", files=files, params=dict(upload.params)))


def get(client: httpx.Client, url: str) -> Answer:
    """GET ``url`` once (a full URL); returns (status or 0 for a transport error, seconds)."""
    return timed(lambda: client.get(url))


def closed_loop(
    url: str,
    uploads: Sequence[Upload],
    *,
    clients: int,
    total_requests: int | None = None,
    duration_s: float | None = None,
    timeout_s: float = 120.0,
) -> tuple[list[Outcome], float]:
    """``clients`` threads, each sending its next request as soon as the last one is answered.

    Stops after ``total_requests`` requests in all, or when ``duration_s`` has passed (no new
    request starts after it), whichever comes first. Requests cycle through ``uploads``.

    Returns:
        every request's outcome, and the wall time from the first start to the last answer.
    """
    if total_requests is None and duration_s is None:
        raise ValueError("give total_requests, duration_s or both")
    lock = threading.Lock()
    outcomes: list[Outcome] = []
    issued = 0
    t0 = time.perf_counter()

    def next_index() -> int | None:
        nonlocal issued
        with lock:
            if total_requests is not None and issued >= total_requests:
                return None
            if duration_s is not None and time.perf_counter() - t0 >= duration_s:
                return None
            issued += 1
            return issued - 1

    def worker() -> None:
        with httpx.Client(timeout=timeout_s) as client:
            while (index := next_index()) is not None:
                upload = uploads[index % len(uploads)]
                started = time.perf_counter() - t0
                status, seconds = post(client, url, upload)
                with lock:
                    outcomes.append(Outcome(upload.name, status, seconds, started, upload.expected))

    threads = [threading.Thread(target=worker, name=f"client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - t0
