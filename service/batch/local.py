"""The default engine: a local process pool, one ONNX Runtime session per worker process.

Each worker builds its :class:`~service.batch.tagging.Tagger` once, in the pool's
initializer, with ``intra_op_threads = cores // workers`` (and its BLAS threads capped
likewise) so that the workers together use the machine's cores without oversubscribing
them. Files are handed out one at a time (at most a few per worker in flight, so a
million-file catalog does not sit in memory as futures), and rows are written by the
parent process as they come back, in completion order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from service.batch.sinks import Sink
from service.batch.sources import Item
from service.batch.tagging import Row, Tagger, TagOptions

IN_FLIGHT_PER_WORKER = 4

_tagger: Tagger | None = None  # one per worker process, set by the initializer


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int, *, cores: int | None = None) -> int:
    """ONNX Runtime intra-op threads for each of ``workers`` processes: ``cores // workers``, at least 1."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    return max(1, (cores if cores is not None else available_cores()) // workers)


@dataclass
class Counts:
    """What a run did: rows written, and how many of them are error rows."""

    tagged: int = 0
    failed: int = 0

    def add(self, row: Row) -> None:
        self.tagged += 1
        self.failed += row["error"] is not None


def limit_native_threads(threads: int) -> None:
    """Cap this process's BLAS and OpenMP pools (numpy's matrix products in the log-mel) at ``threads``.

    A worker that owns ``threads`` cores should not run more; and the same cap gives the
    same floating-point sums whichever engine runs the worker (Ray sets ``OMP_NUM_THREADS``
    to an actor's CPUs). Does nothing when threadpoolctl (in the serve extra) is missing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)


def _init_worker(options: TagOptions, intra_op_threads: int) -> None:
    global _tagger
    limit_native_threads(intra_op_threads)
    _tagger = Tagger(options, intra_op_threads=intra_op_threads, inter_op_threads=1)


def _tag_in_worker(item: Item) -> Row:
    if _tagger is None:
        raise RuntimeError("worker process has no model: its initializer did not run")
    return _tagger.tag(item)


def progress_bar(total: int, *, enabled: bool, desc: str) -> AbstractContextManager[Any]:
    """A tqdm bar over ``total`` files, or nothing when disabled or tqdm is not installed."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc=desc, unit="song", dynamic_ncols=True)
    return nullcontext(None)


def _results(pool: ProcessPoolExecutor, items: Iterable[Item], in_flight: int) -> Iterator[Row]:
    """Rows in completion order, with at most ``in_flight`` files submitted at a time."""
    pending: set[Future[Row]] = set()
    queue = iter(items)
    for item in queue:
        pending.add(pool.submit(_tag_in_worker, item))
        if len(pending) >= in_flight:
            break
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            yield future.result()
            item_or_none = next(queue, None)
            if item_or_none is not None:
                pending.add(pool.submit(_tag_in_worker, item_or_none))


def tag_locally(
    items: list[Item],
    sink: Sink,
    options: TagOptions,
    *,
    workers: int,
    intra_op_threads: int | None = None,
    progress: bool = True,
) -> Counts:
    """Tag ``items`` in ``workers`` processes and write every row to ``sink``.

    Args:
        items: the files still to tag.
        sink: receives one row per item, in completion order; not closed here.
        options: model and pipeline settings shared by every worker.
        workers: worker processes (each holds one ONNX Runtime session), >= 1.
        intra_op_threads: ONNX Runtime threads per worker; ``None``: cores // workers.
        progress: show a tqdm progress bar on stderr.

    Returns:
        rows written and error rows among them. Rows already written stay written when
        the run is interrupted (the caller closes the sink).

    Raises:
        RuntimeError: a worker process died (a crash in native code, or killed for memory),
            or could not load the model.
    """
    threads = intra_op_threads if intra_op_threads is not None else threads_per_worker(workers)
    if threads < 1:
        raise ValueError(f"intra_op_threads must be >= 1, got {threads}")
    counts = Counts()
    if not items:
        return counts
    workers = min(workers, len(items))
    context = multiprocessing.get_context("spawn")  # no inherited ONNX Runtime or BLAS threads
    with (
        ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(options, threads)
        ) as pool,
        progress_bar(len(items), enabled=progress, desc="tagging") as bar,
    ):
        try:
            for row in _results(pool, items, in_flight=workers * IN_FLIGHT_PER_WORKER):
                sink.write(row)
                counts.add(row)
                if bar is not None:
                    bar.update(1)
        except BrokenProcessPool as e:
            raise RuntimeError(
                f"a worker process died ({e}) after {counts.tagged} rows; they are kept, and running "
                "the job again resumes it (look for a file that crashes the decoder, or for memory)"
            ) from e
    return counts
