"""Where training runs: alone, or as one worker of a ``TF_CONFIG`` cluster."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import tensorflow as tf


@dataclass(frozen=True)
class Cluster:
    """This process's place in training: alone, or one worker of a ``TF_CONFIG`` cluster."""

    strategy: tf.distribute.Strategy
    replicas: int  # replicas in sync over all workers (one per worker on CPU)
    is_chief: bool  # writes the run folder

    @property
    def distributed(self) -> bool:
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` with the ``reduce`` that Keras 3 expects of a strategy.

    Keras 3 reduces a whole ``(x, y)`` batch in one call when it builds a model under a
    strategy, and reduces scalar step results (loss, metrics) with ``axis=0``; this
    strategy's own ``reduce`` takes neither. Here a nested structure is reduced leaf by
    leaf, and a scalar across replicas (``axis=None``), as the other strategies do.
    """

    def reduce(self, reduce_op: Any, value: Any, axis: Any) -> Any:
        if not isinstance(value, tf.distribute.DistributedValues) and tf.nest.is_nested(value):
            return tf.nest.map_structure(lambda leaf: self.reduce(reduce_op, leaf, axis), value)
        local = self.experimental_local_results(value)[0]
        if axis is not None and getattr(local, "shape", None) is not None and local.shape.rank == 0:
            axis = None
        return super().reduce(reduce_op, value, axis)


_multi_worker: Cluster | None = None


def cluster_from_environment() -> Cluster:
    """The default strategy, or ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set.

    The multi-worker strategy is made once per process, before anything else touches
    TensorFlow's runtime (collective ops are configured at start-up), and then reused.

    Raises:
        ValueError: ``TF_CONFIG`` is not a JSON object with ``cluster`` and ``task``.
    """
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return Cluster(tf.distribute.get_strategy(), replicas=1, is_chief=True)
    try:
        spec = json.loads(raw)
        task_type, task_id = str(spec["task"]["type"]), int(spec["task"]["index"])
        jobs = dict(spec["cluster"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"TF_CONFIG must be JSON with 'cluster' and 'task' {{type, index}}: {raw!r}") from e
    global _multi_worker
    if _multi_worker is None:  # once per process: later runs (songid compare) share it
        strategy = _MultiWorkerStrategy()
        is_chief = task_type == "chief" or (task_type == "worker" and task_id == 0 and "chief" not in jobs)
        _multi_worker = Cluster(strategy, replicas=int(strategy.num_replicas_in_sync), is_chief=is_chief)
    return _multi_worker


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Every worker builds the same batches; each keeps its replicas' slice of every batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
