"""What one ``python -m bench.perf`` run is asked: read by :mod:`bench.perf`, :mod:`bench.profile`
and :mod:`bench.report`, in a module of its own so that none of them imports another in a circle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.repo import REPO_ROOT
from bench.server import SERVE_SCRIPT
from bench.trainbench import VARIANTS


@dataclass
class Options:
    model_dir: Path
    keras: Path | None
    cache_dir: Path
    split_file: Path
    out: Path
    raw_dir: Path
    int8_dir: Path = REPO_ROOT / "data" / "bench" / "int8"
    repeats: int = 7
    requests: int = 32
    sequential_requests: int = 20
    candidate_requests: int = 24
    cold_starts: int = 3
    levels: tuple[int, ...] = (1, 4, 8)
    intra_values: tuple[int, ...] = (1, 2, 0)
    batch_sizes: tuple[int, ...] = (8, 32, 4, 16)
    streams: tuple[int, ...] = (1, 2, 4)
    stream_batches: tuple[int, ...] = (8, 32)
    songs_per_stream: int = 2
    stream_rounds: int = 3
    train_variants: tuple[str, ...] = tuple(VARIANTS)
    train_steps: int = 16
    train_epochs: int = 4
    profile_seconds: int = 40
    section_wait_s: float = 600.0  # before each section, wait up to this for other work to end
    flops: bool = True  # count the network's FLOPs (starts TensorFlow in a subprocess)
    server_command: tuple[str, ...] = SERVE_SCRIPT
    skip: frozenset[str] = frozenset()
    wait_quiet_s: float = 0.0
