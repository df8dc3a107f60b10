"""The real service in its own process, on a free loopback port, for the benchmarks to drive."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from bench.process_tree import tree_rss
from bench.repo import REPO_ROOT

SERVE_SCRIPT = ("scripts/serve",)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The real service in its own process, on a free loopback port; stops itself on exit.

    Started as the README starts it (``scripts/serve``) unless ``command`` says otherwise.
    Only the process started here is ever signalled, by its PID.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        settings: Mapping[str, str] | None = None,
        command: Sequence[str] = SERVE_SCRIPT,
        log_path: Path | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.port = free_port()
        self.settings = dict(settings or {})
        self.command = list(command)
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="songid-server-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the server is not started")
        return self.process.pid

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SONGID_")}
        env.update(
            SONGID_MODEL_DIR=str(self.model_dir),
            SONGID_HOST="127.0.0.1",
            SONGID_PORT=str(self.port),
            **self.settings,
        )
        return env

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout_s: float = 120.0, poll_s: float = 0.01) -> float:
        """Seconds from process start until ``GET /readyz`` answers 200."""
        deadline = time.perf_counter() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"the server exited early; see {self.log_path}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return time.perf_counter() - self.started_at
                time.sleep(poll_s)
        raise TimeoutError(f"the server was not ready within {timeout_s} s; see {self.log_path}")

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def rss(self) -> int:
        return tree_rss(self.pid)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it does not stop; returns the exit status."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout_s)
        return process.returncode

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
