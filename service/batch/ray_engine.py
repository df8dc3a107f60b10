"""The same job on Ray Data: an actor pool holding the model, Parquet written by the workers.

The file list becomes a dataset of ``{path, location}`` rows; ``map_batches`` runs
:class:`RayTagger`, a callable class, in a pool of actors, each holding one
:class:`~service.batch.tagging.Tagger` (one ONNX Runtime session, on CPU, or on a GPU
when actors are given ``num_gpus``); the rows are written with ``write_parquet`` into the
output folder beside any earlier parts. Each file goes through exactly the code the
local engine runs, so both engines write the same rows.

On a cluster (``address``), every node must have this package installed and see the
model folder, the audio files and the output folder at the same paths (shared storage).
Ray is an optional extra (``pip install 'songid[ray]'``) and is imported only here, lazily.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from service.batch.local import Counts, available_cores, limit_native_threads
from service.batch.sinks import part_files, rows_to_table
from service.batch.sources import Item
from service.batch.tagging import Tagger, TagOptions

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)


def import_ray() -> Any:
    """The ``ray`` module, with ``ray.data`` loaded.

    Raises:
        RuntimeError: Ray is not installed.
    """
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise RuntimeError("the ray engine needs Ray Data: pip install 'songid[ray]'") from e
    return ray


class RayTagger:
    """``map_batches`` callable class: builds its :class:`Tagger` once per actor."""

    def __init__(self, options: TagOptions, intra_op_threads: int) -> None:
        limit_native_threads(intra_op_threads)
        self.tagger = Tagger(options, intra_op_threads=intra_op_threads, inter_op_threads=1)

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        """``{"path": (n,), "location": (n,)}`` -> an Arrow table of n rows."""
        rows = [
            self.tagger.tag(Item(str(key), str(location)))
            for key, location in zip(batch["path"], batch["location"], strict=True)
        ]
        return rows_to_table(rows, self.tagger.tasks)


def _count_new_rows(output: Path, before: set[Path]) -> Counts:
    import pyarrow.parquet as pq

    counts = Counts()
    for part in part_files(output):
        if part not in before:
            errors = pq.read_table(part, columns=["error"])["error"]
            counts.tagged += len(errors)
            counts.failed += len(errors) - errors.null_count
    return counts


def tag_on_ray(
    items: list[Item],
    output: Path | str,
    options: TagOptions,
    *,
    actors: int,
    cpus_per_actor: float = 1.0,
    gpus_per_actor: float = 0.0,
    files_per_batch: int = 4,
    address: str | None = None,
) -> Counts:
    """Tag ``items`` on Ray and write their rows as Parquet parts into the folder ``output``.

    Args:
        items: the files still to tag.
        output: the Parquet output folder (created); earlier parts are left as they are.
        options: model and pipeline settings shared by every actor.
        actors: size of the actor pool (ONNX Runtime sessions), >= 1.
        cpus_per_actor: Ray CPUs reserved per actor; also its ONNX Runtime intra-op
            threads (rounded down, at least 1).
        gpus_per_actor: Ray GPUs per actor (fractions share a GPU); with ``options.provider``
            ``auto`` or ``cuda`` the session then runs on CUDA.
        files_per_batch: files per ``map_batches`` call.
        address: a running Ray cluster (``ray://host:10001`` or ``auto``); ``None`` uses the
            Ray already initialised in this process, or starts a local one on this
            machine's cores (and stops it afterwards).

    Returns:
        rows written by this run and error rows among them.
    """
    if actors < 1:
        raise ValueError(f"actors must be >= 1, got {actors}")
    if not cpus_per_actor > 0 or gpus_per_actor < 0:
        raise ValueError(
            f"cpus_per_actor must be > 0 and gpus_per_actor >= 0, got {cpus_per_actor} and {gpus_per_actor}"
        )
    if files_per_batch < 1:
        raise ValueError(f"files_per_batch must be >= 1, got {files_per_batch}")
    output = Path(output)
    if not items:
        return Counts()
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        if address is None:
            ray.init(num_cpus=available_cores(), include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    try:
        output.mkdir(parents=True, exist_ok=True)
        before = set(part_files(output))
        dataset = ray.data.from_items(
            [{"path": item.key, "location": item.location} for item in items],
            override_num_blocks=max(1, min(len(items), actors * 4)),
        )
        tagged = dataset.map_batches(
            RayTagger,
            fn_constructor_kwargs={"options": options, "intra_op_threads": max(1, int(cpus_per_actor))},
            batch_size=files_per_batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus_per_actor,
            num_gpus=gpus_per_actor or None,
        )
        tagged.write_parquet(str(output.resolve()))
        return _count_new_rows(output, before)
    finally:
        if started_here:
            ray.shutdown()
