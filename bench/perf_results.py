"""Everything one ``python -m bench.perf`` run measured: filled by :mod:`bench.perf`, written out by
:mod:`bench.report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from bench.graph import GraphResult
from bench.inprocess import Floor, FrontEndCheck, StreamRun
from bench.loadtest import CandidateRun, ColdStart, ServiceRun
from bench.profile import Share, TrainProfile
from bench.quantize import QuantResult
from bench.track import Track
from bench.trainbench import TrainSpeed


@dataclass
class Results:
    """Everything measured in one run; :mod:`bench.report` turns it into Markdown."""

    started: str
    track: Track
    model_dir: Path
    busy_before: list[str]
    training_jobs: list[str]
    frontend: FrontEndCheck | None = None
    floors: list[Floor] = field(default_factory=list)
    streams: list[StreamRun] = field(default_factory=list)
    candidates: list[CandidateRun] = field(default_factory=list)
    chosen: CandidateRun | None = None
    service: ServiceRun | None = None
    cold: list[ColdStart] = field(default_factory=list)
    naive: dict[str, Any] | None = None
    floor_song_probs: dict[str, list[float]] = field(default_factory=dict)
    ort_profile: list[Share] = field(default_factory=list)
    training: list[TrainSpeed] = field(default_factory=list)
    train_flops: dict[str, float] = field(default_factory=dict)
    sgemm_gflops: float = float("nan")
    profile: TrainProfile | None = None
    graph: GraphResult | None = None
    quant: QuantResult | None = None
    busy_after: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    other_load: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best_floor(self) -> Floor:
        return min(self.floors, key=lambda f: f.seconds)


def jsonable(value: Any) -> Any:
    """``value`` (results, dataclasses, dicts, lists, paths) as plain JSON types, for the raw figures."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
