"""What the benchmarks share: the machine's description, the test track, the server process,
RSS sampling and a closed-loop HTTP load generator."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from types import TracebackType

import httpx
import psutil
import soundfile as sf

from training.signals import synthetic_track

REPO_ROOT = Path(__file__).resolve().parents[1]
TRACKS_DIR = REPO_ROOT / "data" / "benchmarks" / "gamemusic" / "audio"
SERVE_SCRIPT = ("scripts/serve",)
LIBRARIES = (
    "numpy",
    "soundfile",
    "soxr",
    "librosa",
    "numba",
    "onnxruntime",
    "fastapi",
    "uvicorn",
    "httpx",
    "psutil",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
)


# -- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_flags() -> set[str]:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = package_version(name)
    return found


def machine_lines() -> list[str]:
    """Markdown bullet lines describing the machine and the library versions."""
    memory_gib = psutil.virtual_memory().total / 2**30
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return [
        f"- CPU: {cpu_model()}; {psutil.cpu_count(logical=False)} physical cores, "
        f"{psutil.cpu_count(logical=True)} logical; {memory_gib:.1f} GiB RAM; no GPU used",
        f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
        f"- Libraries: {versions}",
    ]


def training_processes() -> list[psutil.Process]:
    """Running ``songid train``-like jobs (train, compare, reproduce): other work loading the CPU."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        words = [Path(part).name for part in cmdline]
        jobs = ("train", "compare", "reproduce")
        songid = "songid" in words or "training.cli" in words
        if songid and any(w in words for w in jobs) and proc.pid != os.getpid():
            found.append(proc)
    return found


def busy_processes(seconds: float = 1.0, threshold: float = 10.0) -> list[str]:
    """Other processes using more than ``threshold`` % of one core over ``seconds``."""
    procs = []
    mine = {os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))}
    for proc in psutil.process_iter(["pid", "name"]):
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)
            procs.append(proc)
    time.sleep(seconds)
    busy = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            used = proc.cpu_percent(None)
            if used >= threshold and proc.pid not in mine:
                busy.append(f"{proc.info['name']} (pid {proc.pid}, {used:.0f} % of a core)")
    return busy


def wait_until_quiet(max_wait_s: float, log: Callable[[str], None] = print) -> list[str]:
    """Wait (up to ``max_wait_s``) until no training job runs and no other process is busy.

    Returns what was still running when the wait ended (empty when the machine is quiet).
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        running = [f"songid job (pid {p.pid})" for p in training_processes()]
        running += busy_processes(seconds=3.0, threshold=25.0)
        if not running or time.monotonic() >= deadline:
            return running
        log(f"waiting for a quiet machine: {', '.join(running)}")
        time.sleep(20)


class LoadMonitor:
    """Samples, on a background thread, the CPU used by processes outside this process tree.

    ``section(name)`` starts a new named section; ``summary()`` gives, per section, the mean and
    maximum CPU of other processes (in % of one core) and the busiest of them by name.
    """

    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self.samples: dict[str, list[float]] = {}
        self.own: dict[str, list[float]] = {}  # the harness process itself (clients, in-process work)
        self.culprits: dict[str, dict[str, float]] = {}
        self._section = "start"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-monitor", daemon=True)
        self._procs: dict[int, psutil.Process] = {}

    def section(self, name: str) -> None:
        self._section = name

    def _others(self) -> dict[int, psutil.Process]:
        me = psutil.Process()
        mine = {me.pid, *(p.pid for p in me.children(recursive=True))}
        found = {}
        for proc in psutil.process_iter(["pid", "name"]):
            if proc.pid in mine:
                continue
            known = self._procs.get(proc.pid)
            if known is None:
                with contextlib.suppress(psutil.Error):
                    proc.cpu_percent(None)  # first call: starts the measurement
                found[proc.pid] = proc
            else:
                found[proc.pid] = known
        return found

    def _run(self) -> None:
        self._procs = self._others()
        me = psutil.Process()
        me.cpu_percent(None)
        while not self._stop.wait(self.interval_s):
            total = 0.0
            section = self._section
            self.own.setdefault(section, []).append(me.cpu_percent(None))
            for proc in self._procs.values():
                with contextlib.suppress(psutil.Error):
                    used = proc.cpu_percent(None)
                    total += used
                    if used >= 10:
                        name = str(proc.info.get("name") or proc.pid)
                        culprits = self.culprits.setdefault(section, {})
                        culprits[name] = max(culprits.get(name, 0.0), used)
            self.samples.setdefault(section, []).append(total)
            self._procs = self._others()

    def summary(self) -> list[tuple[str, float, float, float, str]]:
        """(section, others' mean %, others' max %, harness mean %, busiest others) per section."""
        rows = []
        for section, values in self.samples.items():
            culprits = sorted(self.culprits.get(section, {}).items(), key=lambda kv: -kv[1])[:3]
            names = ", ".join(f"{name} (up to {used:.0f} %)" for name, used in culprits)
            own = self.own.get(section) or [0.0]
            rows.append((section, sum(values) / len(values), max(values), sum(own) / len(own), names))
        return rows

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# -- the track ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    path: Path
    duration_s: float
    sample_rate: int
    channels: int
    synthetic: bool

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    def describe(self) -> str:
        kind = "synthetic" if self.synthetic else "real"
        name = self.path.name if self.synthetic else str(self.path.relative_to(REPO_ROOT))
        return (
            f"{name} ({kind}; {self.duration_s:.1f} s, {self.sample_rate} Hz, {self.channels} channel(s), "
            f"{self.path.stat().st_size / 1e6:.2f} MB {self.path.suffix.lstrip('.').upper()})"
        )


def pick_track(
    tracks_dir: Path = TRACKS_DIR, *, target_s: float = 180.0, fallback_dir: Path | None = None
) -> Track:
    """The FLAC under ``tracks_dir`` closest to ``target_s`` seconds; else a synthetic one."""
    best: tuple[float, Path, sf._SoundFileInfo] | None = None
    for path in sorted(tracks_dir.rglob("*.flac")) if tracks_dir.is_dir() else []:
        info = sf.info(str(path))
        gap = abs(info.duration - target_s)
        if best is None or gap < best[0]:
            best = (gap, path, info)
    if best is not None and best[0] < 0.1 * target_s:
        _, path, info = best
        return Track(path, info.duration, info.samplerate, info.channels, synthetic=False)
    folder = fallback_dir or Path(tempfile.mkdtemp(prefix="songid-bench-"))
    path = synthetic_track(folder / "synthetic-3min.flac", seconds=target_s)
    info = sf.info(str(path))
    return Track(path, info.duration, info.samplerate, info.channels, synthetic=True)


# -- the server process ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_total(pid: int, measure: Callable[[psutil.Process], int]) -> int:
    """``measure`` summed over a process and all its children (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += measure(proc)
    return total


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its children, in bytes (0 when it is gone)."""
    return tree_total(pid, lambda proc: proc.memory_info().rss)


def tree_fds(pid: int) -> int:
    """Open file descriptors of a process and all its children (0 when it is gone)."""
    return tree_total(pid, lambda proc: proc.num_fds())


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


class RssSampler:
    """Samples a process tree's RSS on a background thread; ``peak`` and ``samples`` after stop."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []  # (seconds since start, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._t0 = 0.0

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._t0, tree_rss(self.pid)))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# -- HTTP load ---------------------------------------------------------------------------------


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


def post(client: httpx.Client, url: str, upload: Upload) -> tuple[int, float]:
    """POST /predict once; returns (status or 0 for a transport error, seconds)."""
    started = time.perf_counter()
    try:
        response = client.post(
            f"{url}/predict",
            files={upload.form_field: ("upload.bin", upload.content, "application/octet-stream")},
            params=dict(upload.params),
        )
        response.read()
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    return status, time.perf_counter() - started


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


def run_module(args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout_s: float = 1800) -> str:
    """``python -m <args>`` from the repository root; returns stdout, raises on failure."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout
