"""Studies made of runs, each kept as one JSON record: skip what is recorded, record what runs.

A study (the open-set study, the language study) plans runs with a ``key``; a run's work goes to
``<runs>/<key>/`` and its figures to ``<records>/<key>.json``. A record is written whole once the
run has finished, so an interrupted study resumes at the first run without one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from training.run_folder import write_json_atomic

log = logging.getLogger(__name__)


class StudyFolders(Protocol):
    @property
    def runs(self) -> Path: ...

    @property
    def records(self) -> Path: ...


class RecordedRun:
    """Where a run of key :attr:`key` works and is recorded (mixed into a study's run dataclass)."""

    paths: StudyFolders

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def run_dir(self) -> Path:
        return self.paths.runs / self.key

    @property
    def record(self) -> Path:
        return self.paths.records / f"{self.key}.json"


Run = TypeVar("Run", bound=RecordedRun)


def record_missing(
    runs: Sequence[Run],
    measure: Callable[[Run], dict[str, Any]],
    *,
    on_record: Callable[[], None] = lambda: None,
) -> None:
    """``measure`` every run without a record, adding ``key`` and ``wall_s``; ``on_record`` after each."""
    for k, run in enumerate(runs, start=1):
        if run.record.is_file():
            continue
        log.info("run %d of %d: %s", k, len(runs), run.key)
        started = time.monotonic()
        record = measure(run)
        record.update(key=run.key, wall_s=round(time.monotonic() - started, 1))
        run.record.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run.record, record)
        on_record()


def read_records(records: Path) -> list[dict[str, Any]]:
    """Every record under ``records`` (sorted by path)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(records.rglob("*.json"))]
