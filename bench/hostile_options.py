"""What one ``bench.hostile`` run is told: the attacks chosen, their scale, the server and the watch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.hostile_attacks import Scale


@dataclass(frozen=True)
class Options:
    quick: bool
    report: Path
    only: tuple[str, ...]
    model_dir: Path
    settings: dict[str, str]
    server_command: tuple[str, ...]
    scale: Scale
    healthz_every_s: float
    healthz_timeout_s: float
    client_timeout_s: float
    unloaded_requests: int
    command_line: str
