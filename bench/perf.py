"""``python -m bench.perf``: the performance benchmark; writes ``reports/perf.md``.

Sections (each can be skipped with ``--skip``):

- ``frontend``: the front end's log-mel against librosa's reference, same samples.
- ``floor``: decode + resample + log-mel + ONNX Runtime, in-process, and the ONNX Runtime
  thread and batch settings with one and several songs at once.
- ``graph``: the exported ONNX graph against tf2onnx's plain conversion of the same Keras
  weights (without the BatchNormalization rewrite), inference interleaved.
- ``service``: the real server (``scripts/serve``) over loopback: server settings tried with
  8 clients, then one client and 1/4/8 concurrent clients with the chosen settings, peak RSS.
- ``cold``: process start to ``/readyz``, and the first request against the next ones.
- ``naive``: librosa + Keras ``predict`` on the same track and weights, in its own process.
- ``training``: training-loop segments/s for several run settings, each in its own process,
  and TensorFlow's profile of the default one.
- ``quantize``: an int8 copy of the model (static quantization calibrated on cached mels), its
  inference speed against float32 and the test-split AUC of both.

Every figure is a median over repeats; every ratio is between figures of the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import report
from bench.http_load import Upload
from bench.inprocess import (
    DEFAULT_BATCH,
    OrtSettings,
    check_front_end,
    measure_floors,
    measure_streams,
    song_probs,
)
from bench.machine import sgemm_gflops
from bench.machine_load import LoadMonitor, busy_processes, training_processes, wait_until_quiet
from bench.perf_children import run_naive, run_training
from bench.perf_options import Options
from bench.perf_results import Results, jsonable
from bench.perf_service import measure_cold_starts, measure_settings
from bench.profile import profile_inference, profile_training
from bench.repo import REPO_ROOT
from bench.server import SERVE_SCRIPT, Server
from bench.track import pick_track
from bench.trainbench import VARIANTS, flops_in_child

SECTIONS = ("frontend", "floor", "graph", "service", "cold", "naive", "training", "quantize")


def run(options: Options, log: Callable[[str], None] = print) -> Results:
    """Every section not skipped, with the CPU use of other processes watched throughout."""
    with LoadMonitor() as monitor:
        results = _run_sections(options, log, monitor)
    results.other_load = monitor.summary()
    return results


def _quiet(options: Options, monitor: LoadMonitor, name: str, log: Callable[[str], None]) -> None:
    """Wait (bounded) for other work to end before a section, then name the section."""
    if options.section_wait_s > 0:
        still = wait_until_quiet(options.section_wait_s, log)
        if still:
            log(f"{name}: measuring although these still run: {', '.join(still)}")
    monitor.section(name)


def _run_sections(options: Options, log: Callable[[str], None], monitor: LoadMonitor) -> Results:
    still_busy = wait_until_quiet(options.wait_quiet_s, log) if options.wait_quiet_s else []
    started = time.perf_counter()  # the report's duration leaves out the wait for quiet
    training_jobs = [f"songid job (pid {p.pid})" for p in training_processes()]
    track = pick_track(fallback_dir=options.raw_dir)
    data = track.data
    upload = Upload("track", data)
    results = Results(
        started=time.strftime("%Y-%m-%d %H:%M %Z"),
        track=track,
        model_dir=options.model_dir,
        busy_before=still_busy or busy_processes(),
        training_jobs=training_jobs,
    )
    log(f"track: {track.describe()}")
    skip = options.skip
    results.sgemm_gflops = sgemm_gflops()
    if options.flops:
        results.train_flops = flops_in_child(options.model_dir)

    if "frontend" not in skip:
        _quiet(options, monitor, "frontend", log)
        log("front end against librosa")
        results.frontend = check_front_end(data, repeats=options.repeats)

    if "floor" not in skip:
        _quiet(options, monitor, "floor", log)
        grid = [OrtSettings(intra=i, batch_size=b) for b in options.batch_sizes for i in options.intra_values]
        log(f"floor: {len(grid)} settings, interleaved")
        results.floors = measure_floors(options.model_dir, data, grid, repeats=options.repeats)
        stream_grid = [
            OrtSettings(intra=i, batch_size=b) for b in options.stream_batches for i in options.intra_values
        ]
        log(f"streams: {len(stream_grid)} settings, interleaved")
        results.streams = measure_streams(
            options.model_dir,
            data,
            stream_grid,
            options.streams,
            songs_per_stream=options.songs_per_stream,
            rounds=options.stream_rounds,
        )
        best_intra = results.best_floor.settings.intra
        results.floor_song_probs = song_probs(options.model_dir, data)
        results.ort_profile = profile_inference(options.model_dir, data, intra=best_intra)

    if "graph" not in skip and options.keras is not None and options.keras.is_file():
        _quiet(options, monitor, "graph", log)
        log("exported graph against the plain tf2onnx conversion")
        from bench.graph import measure as measure_graph

        results.graph = measure_graph(
            options.model_dir, options.keras, data, batch_size=DEFAULT_BATCH, repeats=options.repeats
        )

    if "service" not in skip or "cold" not in skip:
        log("one untimed server start (first-use setup of scripts/serve)")
        with Server(options.model_dir, command=options.server_command) as server:
            server.wait_ready(timeout_s=900)

    if "service" not in skip:
        _quiet(options, monitor, "service", log)
        floor_s = results.best_floor.seconds if results.floors else None
        results.candidates, results.chosen, results.service = measure_settings(options, upload, floor_s, log)

    if "cold" not in skip:
        _quiet(options, monitor, "cold", log)
        chosen = dict(results.chosen.candidate.settings) if results.chosen else {}
        results.cold = measure_cold_starts(options, upload, chosen, log)

    if "naive" not in skip:
        _quiet(options, monitor, "naive", log)
        log("naive peer")
        results.naive = run_naive(options, track, log)

    if "training" not in skip:
        _quiet(options, monitor, "training", log)
        results.training = run_training(options, log)
        if options.profile_seconds > 0:
            log("profiling the training loop")
            results.profile = profile_training(options, seconds=options.profile_seconds)

    if "quantize" not in skip:
        _quiet(options, monitor, "quantize", log)
        log("int8 quantization")
        from bench.quantize import measure as measure_int8

        batch = int(
            (results.chosen.candidate.settings if results.chosen else {}).get("SONGID_BATCH_SIZE", 32)
        )
        results.quant = measure_int8(
            options.model_dir,
            options.cache_dir,
            options.split_file,
            options.int8_dir,
            data,
            batch_size=batch,
            repeats=options.repeats,
        )

    results.busy_after = busy_processes()
    results.seconds = time.perf_counter() - started
    return results


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--keras", type=Path, default=REPO_ROOT / "data/runs/bundle/run/model.keras")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "data/cache/bundle")
    parser.add_argument("--split", type=Path, default=REPO_ROOT / "data/runs/bundle/split.json")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports/perf.md")
    parser.add_argument(
        "--raw-dir", type=Path, default=REPO_ROOT / "reports/perf/raw", help="JSON of every figure"
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--requests", type=int, default=32, help="requests per concurrency level")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {', '.join(SECTIONS)}")
    parser.add_argument(
        "--wait-quiet", type=float, default=3600, help="seconds to wait for a training job to end"
    )
    parser.add_argument("--train-variants", default=",".join(VARIANTS))
    parser.add_argument("--train-steps", type=int, default=16, help="training steps per epoch")
    parser.add_argument("--train-epochs", type=int, default=4, help="training epochs (the first is warm-up)")
    parser.add_argument("--profile-seconds", type=int, default=40, help="training profile length; 0: none")
    parser.add_argument("--server-command", default=" ".join(SERVE_SCRIPT), help="how to start the server")
    args = parser.parse_args(argv)
    skip = frozenset(s for s in args.skip.split(",") if s)
    if unknown := skip - set(SECTIONS):
        parser.error(f"unknown sections: {sorted(unknown)}")
    return Options(
        model_dir=args.model_dir,
        keras=args.keras,
        cache_dir=args.cache,
        split_file=args.split,
        out=args.out,
        raw_dir=args.raw_dir,
        repeats=args.repeats,
        requests=args.requests,
        cold_starts=args.cold_starts,
        skip=skip,
        wait_quiet_s=args.wait_quiet,
        train_variants=tuple(v for v in args.train_variants.split(",") if v),
        train_steps=args.train_steps,
        train_epochs=args.train_epochs,
        profile_seconds=args.profile_seconds,
        server_command=tuple(args.server_command.split()),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    options.raw_dir.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[perf {time.strftime('%H:%M:%S')}] {message}", flush=True)

    results = run(options, log)
    (options.raw_dir / "perf.json").write_text(json.dumps(jsonable(results), indent=1), encoding="utf-8")
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(report.render(results, options), encoding="utf-8")
    log(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
