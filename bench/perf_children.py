"""The sections of ``python -m bench.perf`` measured in child processes: the naive peer and the training loop.

Each runs as ``python -m bench.naive`` or ``python -m bench.trainbench`` so that TensorFlow's
thread pools are set fresh and stay out of the harness process.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.perf_options import Options
from bench.repo import run_module
from bench.track import Track
from bench.trainbench import TrainSpeed, run_in_child


def run_naive(options: Options, track: Track, log: Callable[[str], None]) -> dict[str, Any]:
    """``bench.naive`` on the track with the model's classes (and its Keras weights where found)."""
    from frontend.artifact import load_artifact

    artifact = load_artifact(options.model_dir)
    classes = {task: len(labels) for task, labels in artifact.labels.items()}
    with tempfile.TemporaryDirectory(prefix="songid-naive-") as tmp:
        out = Path(tmp) / "naive.json"
        args = [
            "bench.naive",
            "--track",
            str(track.path),
            "--json",
            str(out),
            "--repeats",
            str(options.repeats),
        ]
        args += ["--classes", json.dumps(classes)]
        if options.keras is not None and options.keras.is_file():
            args += ["--keras", str(options.keras)]
        else:
            log("no Keras weights found: the naive peer uses a freshly built network (same compute)")
        run_module(args)
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def run_training(options: Options, log: Callable[[str], None]) -> list[TrainSpeed]:
    """Segments/s of each training variant asked for; a variant that fails is logged and left out."""
    speeds = []
    with tempfile.TemporaryDirectory(prefix="songid-train-") as tmp:
        for name in options.train_variants:
            log(f"training variant {name}")
            out = Path(tmp) / f"{name}.json"
            try:
                run_in_child(
                    name,
                    cache_dir=options.cache_dir,
                    split_file=options.split_file,
                    steps=options.train_steps,
                    epochs=options.train_epochs,
                    json_path=out,
                )
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                log(f"variant {name} failed: {str(e)[-500:]}")
                continue
            raw = json.loads(out.read_text())
            raw.pop("median", None)
            speeds.append(TrainSpeed(**raw))
    return speeds
