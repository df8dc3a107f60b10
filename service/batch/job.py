"""One tagging job end to end: list the files, skip those already done, run an engine, report."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from service.batch.local import Counts, available_cores, tag_locally
from service.batch.sinks import done_keys, open_sink, output_format
from service.batch.sources import list_inputs
from service.batch.tagging import TagOptions
from service.model import SongModel

logger = logging.getLogger(__name__)

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")


@dataclass(frozen=True)
class JobReport:
    """What a job did. ``seconds`` covers the engine's run, worker start-up included."""

    listed: int  # files in the input
    skipped: int  # already in the output (resumed)
    tagged: int  # rows written by this run
    failed: int  # of which error rows
    seconds: float
    model_name: str
    model_version: int

    @property
    def songs_per_s(self) -> float:
        return self.tagged / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.listed} files: {self.skipped} already done, {self.tagged} tagged "
            f"({self.failed} errors) in {self.seconds:.1f} s ({self.songs_per_s:.2f} songs/s) "
            f"with {self.model_name} v{self.model_version}"
        )


def probe_model(options: TagOptions) -> SongModel:
    """Load the model once in this process, so a bad model folder fails before any worker starts.

    Raises:
        service.model.ModelLoadError: naming the file and the problem.
    """
    model = SongModel(
        options.model_dir,
        version=options.model_version,
        provider="cpu",
        intra_op_threads=1,
        inter_op_threads=1,
    )
    model.load()
    return model


def tag_catalog(
    source: Path | str,
    output: Path | str,
    options: TagOptions,
    *,
    engine: Engine = "local",
    workers: int | None = None,
    intra_op_threads: int | None = None,
    rows_per_part: int = 1000,
    progress: bool = True,
    ray_address: str | None = None,
    gpus_per_actor: float = 0.0,
    files_per_batch: int = 4,
) -> JobReport:
    """Tag every file of ``source`` not yet in ``output``.

    Args:
        source: a folder (searched recursively) or a CSV manifest with a ``path`` column.
        output: ``*.jsonl`` (a file, appended to) or ``*.parquet`` (a folder of parts).
        options: model and pipeline settings.
        engine: ``local`` (process pool) or ``ray`` (Ray Data; Parquet output only).
        workers: worker processes, or Ray actors; ``None``: this machine's cores.
        intra_op_threads: ONNX Runtime threads per worker (or Ray CPUs per actor);
            ``None``: cores // workers locally, 1 per actor on Ray.
        rows_per_part: rows per Parquet part written by the local engine.
        progress: show a progress bar.
        ray_address: a Ray cluster to run on (``--engine ray`` only).
        gpus_per_actor: GPUs per Ray actor (``--engine ray`` only).
        files_per_batch: files per Ray ``map_batches`` call.

    Raises:
        ValueError: bad input, output, engine or counts, or an output of another model.
        service.model.ModelLoadError: the model folder cannot be served.
        RuntimeError: ``engine="ray"`` without Ray installed.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if intra_op_threads is not None and intra_op_threads < 1:
        raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
    fmt = output_format(output)
    if engine == "ray" and fmt != "parquet":
        raise ValueError(f"{output}: the ray engine writes Parquet; give an output ending in .parquet")
    items = list_inputs(source)
    model = probe_model(options)
    name, version, tasks = model.name, model.version, model.artifact.tasks
    model.close()
    done = done_keys(output, model_name=name, model_version=version)
    todo = [item for item in items if item.key not in done]
    n_workers = workers if workers is not None else available_cores()
    started = time.perf_counter()
    counts = Counts()
    if todo and engine == "local":
        with open_sink(output, tasks, rows_per_part=rows_per_part) as sink:
            counts = tag_locally(
                todo, sink, options, workers=n_workers, intra_op_threads=intra_op_threads, progress=progress
            )
    elif todo:
        from service.batch.ray_engine import tag_on_ray

        counts = tag_on_ray(
            todo,
            output,
            options,
            actors=n_workers,
            cpus_per_actor=float(intra_op_threads or 1),
            gpus_per_actor=gpus_per_actor,
            files_per_batch=files_per_batch,
            address=ray_address,
        )
    return JobReport(
        listed=len(items),
        skipped=len(items) - len(todo),
        tagged=counts.tagged,
        failed=counts.failed,
        seconds=time.perf_counter() - started,
        model_name=name,
        model_version=version,
    )
