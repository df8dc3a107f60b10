"""Markdown for ``reports/perf.md`` from one run's :class:`bench.perf_results.Results`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bench.machine import cpu_flags, cpu_model, machine_lines
from bench.stats import fmt, median, percentile, ratio, verdict

if TYPE_CHECKING:
    from bench.inprocess import Floor
    from bench.perf_options import Options
    from bench.perf_results import Results

MB = 1e6


def _ms(seconds: float) -> str:
    return fmt(seconds * 1000, 0)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _settings_text(settings: dict[str, str] | object) -> str:
    items = dict(settings) if isinstance(settings, dict) else {}
    if not items:
        return "defaults"
    return ", ".join(f"`{k}={v}`" for k, v in items.items())


def peak_gflops() -> tuple[float, str]:
    """Theoretical float32 peak of this CPU from its clock and vector width (an estimate)."""
    import psutil

    flags = cpu_flags()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    fma = 2 if "fma" in flags or "avx512f" in flags else 1
    per_cycle = 2 * lanes * fma  # two FMA pipes assumed, two FLOPs per FMA
    freq = psutil.cpu_freq()
    ghz = (freq.max or freq.current) / 1000 if freq else float("nan")
    cores = psutil.cpu_count(logical=False) or 1
    text = (
        f"{cores} cores x {ghz:.2f} GHz x {per_cycle} FLOP/cycle "
        f"({lanes} float32 lanes, {fma} FMA pipe(s) x 2 FLOP)"
    )
    return cores * ghz * per_cycle, text


def _model_text(results: Results) -> str:
    from frontend.artifact import ArtifactError, load_artifact

    try:
        artifact = load_artifact(results.model_dir)
    except ArtifactError:
        return "n/a"
    params = artifact.metrics.get("export", {}).get("params")
    size = artifact.onnx_path.stat().st_size / MB
    return (
        f"`{artifact.name}` version {artifact.version} (ONNX, {size:.2f} MB"
        + (f", {params:,} parameters" if params else "")
        + ")"
    )


def targets(results: Results) -> list[list[str]]:
    rows: list[list[str]] = []
    floor = results.best_floor if results.floors else None
    service = results.service
    p50 = median(service.sequential) if service else math.nan
    floor_s = floor.seconds if floor else math.nan
    if service:
        r = ratio(p50, floor_s)
        rows.append(
            [
                "POST /predict p50 ≤ 1.3 × floor",
                f"{_ms(p50)} ms = {fmt(r, 2)} × floor",
                verdict(r, 1.3, at_most=True),
            ]
        )
    if results.naive and service:
        naive_s = median(results.naive["seconds"][1:] or results.naive["seconds"])
        r = ratio(naive_s, p50)
        rows.append(
            [
                "≥ 4 × faster than the naive peer",
                f"naive {_ms(naive_s)} ms / POST p50 {_ms(p50)} ms = {fmt(r, 2)} × "
                f"(floor: {fmt(ratio(naive_s, floor_s), 2)} ×)",
                verdict(r, 4.0, at_most=False),
            ]
        )
    eight = next((run for run in service.levels if run.clients == 8), None) if service else None
    if eight is not None:
        share = ratio(eight.songs_per_s, 1 / floor_s)
        rows.append(
            [
                "8 clients: throughput ≥ 85 % of floor songs/s",
                f"{fmt(eight.songs_per_s, 2)} songs/s = {fmt(share * 100, 0)} % of {fmt(1 / floor_s, 2)}",
                verdict(share, 0.85, at_most=False),
            ]
        )
        rows.append(
            [
                "8 clients: 0 errors",
                f"{eight.errors} of {len(eight.outcomes)}",
                verdict(eight.errors, 0, at_most=True),
            ]
        )
        lat = eight.latency
        r = ratio(lat.p99, lat.p50)
        rows.append(
            [
                "8 clients: p99 ≤ 3 × p50",
                f"p99 {_ms(lat.p99)} ms = {fmt(r, 2)} × p50",
                verdict(r, 3.0, at_most=True),
            ]
        )
        rows.append(
            [
                "peak RSS under 8 clients ≤ 600 MB",
                f"{fmt(eight.peak_rss / MB, 0)} MB",
                verdict(eight.peak_rss / MB, 600, at_most=True),
            ]
        )
    if results.cold:
        ready = median([c.ready_s for c in results.cold])
        rows.append(
            [
                "ready ≤ 5 s after start, warm-up included",
                f"{fmt(ready, 2)} s",
                verdict(ready, 5.0, at_most=True),
            ]
        )
        first = median([c.first_over_steady for c in results.cold])
        rows.append(
            ["first request ≤ 1.5 × steady state", f"{fmt(first, 2)} ×", verdict(first, 1.5, at_most=True)]
        )
    if results.training:
        best = max(results.training, key=lambda t: t.median)
        rows.append(
            [
                "training ≥ 100 segments/s",
                f"{fmt(best.median, 1)} segments/s ({best.variant})",
                verdict(best.median, 100.0, at_most=False),
            ]
        )
    return rows


def _floor_rows(floors: list[Floor]) -> list[list[str]]:
    return [
        [
            f.settings.label(),
            _ms(f.seconds),
            _ms(median(f.decode)),
            _ms(median(f.mel)),
            _ms(median(f.infer)),
            fmt(f.songs_per_s, 2),
            str(f.n_segments),
        ]
        for f in floors
    ]


def render(results: Results, options: Options) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `python -m bench.perf` (the harness in `bench/`); every figure below was measured in",
        f"one run started {results.started}, taking {results.seconds / 60:.0f} minutes. Figures are medians",
        "over repeats unless a percentile is named; every ratio compares figures of that same run.",
        "",
        "## Machine and inputs",
        "",
        *machine_lines(),
        f"- Track: {results.track.describe()}",
        f"- Model: {_model_text(results)}; the naive peer (section 3) uses "
        f"{results.naive['weights'] if results.naive else 'n/a'}",
        f"- Other load when starting: {', '.join(results.busy_before) or 'none above 10 % of a core'}; "
        f"training jobs: {', '.join(results.training_jobs) or 'none'}; at the end: "
        f"{', '.join(results.busy_after) or 'none above 10 % of a core'}",
        *[f"- Note: {note}" for note in results.notes],
        "",
        "## Targets",
        "",
        *_table(["Target", "Measured", "Verdict"], targets(results)),
    ]

    if results.floors:
        best = results.best_floor
        lines += [
            "## 1. Floor: the pipeline in-process, no HTTP",
            "",
            "The service's own `Pipeline.analyse` (decode budget check, decode, resample,",
            "log-mel, segments, ONNX Runtime, song averaging) on the track, in the harness process, one",
            f"song at a time after one untimed run; {options.repeats} rounds, each running every settings",
            "in turn (interleaved, so load changes hit all settings alike). The stage columns time",
            "`frontend.audio.load_audio`, `log_mel` + `segment` and `SongModel.predict` separately.",
            "",
            *_table(
                [
                    "ONNX Runtime settings",
                    "total ms",
                    "decode ms",
                    "log-mel ms",
                    "inference ms",
                    "songs/s",
                    "segments",
                ],
                _floor_rows(results.floors),
            ),
            f"Floor used for the targets: **{_ms(best.seconds)} ms** per song ({best.settings.label()}), "
            f"i.e. {fmt(best.songs_per_s, 2)} songs/s.",
            "",
        ]
        forward = results.train_flops.get("forward", math.nan)
        if not math.isnan(forward):
            fastest = min(results.floors, key=lambda f: median(f.infer))
            gflops = forward * fastest.n_segments / median(fastest.infer) / 1e9
            lines += [
                f"The network costs {fmt(forward / 1e6, 0)} MFLOP per segment "
                "(Conv2D and Dense multiply-adds), "
                f"{fmt(forward * fastest.n_segments / 1e9, 1)} GFLOP for the track; the fastest inference "
                f"({fastest.settings.label()}) ran at {fmt(gflops, 0)} GFLOP/s, "
                f"{fmt(gflops / results.sgemm_gflops * 100, 0)} % of a float32 2048² matrix product "
                f"with numpy's BLAS on this machine ({fmt(results.sgemm_gflops, 0)} GFLOP/s, same run).",
                "",
            ]
    if results.streams:
        rows = [
            [s.settings.label(), str(s.streams), fmt(s.songs_per_s, 2), _ms(s.latency_p50)]
            for s in results.streams
        ]
        lines += [
            "### ONNX Runtime threads with several songs at once",
            "",
            "The same pipeline with `streams` songs analysed at once by worker threads (as the",
            f"service's slots do); {options.songs_per_stream} songs per stream, "
            f"{options.stream_rounds} interleaved rounds (songs/s: median of the rounds); latency per song.",
            "`automatic` is the service's default: every core for a song alone, one thread each otherwise.",
            "",
            *_table(["settings", "streams", "songs/s", "latency p50 ms"], rows),
        ]
    if results.ort_profile:
        rows = [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in results.ort_profile]
        lines += [
            "### Inference profile (ONNX Runtime's own, by operator type)",
            "",
            *_table(["operator", "ms (all runs)", "% of node time"], rows),
        ]
    lines += _graph_section(results)
    if results.frontend:
        fe = results.frontend
        lines += [
            "### Front end against librosa",
            "",
            "`frontend.audio.log_mel` (numpy STFT and mel filters) against the same log-mel computed",
            "with `librosa.stft` and `librosa.filters.mel`, on the track's samples:",
            "",
            *_table(
                ["implementation", "ms", "max abs difference"],
                [
                    ["frontend.audio.log_mel", _ms(median(fe.frontend_s)), fmt(fe.max_abs_diff, 7)],
                    ["librosa reference", _ms(median(fe.librosa_s)), "0"],
                ],
            ),
            f"Values are log10(1 + 10^4 S) up to {fmt(fe.max_value, 2)}; the largest difference over "
            f"{fe.n_values} values is float32 rounding of the mel matrix product.",
            "",
        ]

    if results.candidates and results.service and results.chosen:
        rows = [
            [
                c.candidate.name,
                _ms(median(c.single)),
                str(len(c.run.ok)),
                str(c.run.errors),
                fmt(c.run.songs_per_s, 2),
                _ms(c.run.latency.p50),
                _ms(c.run.latency.p99),
                fmt(c.idle_rss / MB, 0),
                fmt(c.run.peak_rss / MB, 0),
            ]
            for c in results.candidates
        ]
        service = results.service
        lat = service.sequential
        lines += [
            "## 2. Service over loopback",
            "",
            "The real server started as the README starts it (`scripts/serve`, `SONGID_PORT` set to a",
            "free port, bound to 127.0.0.1), driven by closed-loop httpx clients in the harness process",
            "(each sends its next upload when the last is answered; 503 and any non-200 count as errors).",
            "",
            "### Server settings for 8 clients",
            "",
            "Each candidate: a fresh server, one untimed request, 6 requests from one client, then",
            f"{options.candidate_requests} requests from 8 clients. Chosen: among those with 0 errors and",
            "peak RSS ≤ 600 MB, the one meeting more of the one-client latency and 8-client throughput",
            "targets; on a tie the shipped defaults, then the highest songs/s.",
            "",
            *_table(
                [
                    "settings",
                    "1 client p50 ms",
                    "8 clients: 200",
                    "errors",
                    "songs/s",
                    "p50 ms",
                    "p99 ms",
                    "idle RSS MB",
                    "peak RSS MB",
                ],
                rows,
            ),
            f"Chosen: **{results.chosen.candidate.name}** "
            f"({_settings_text(dict(results.chosen.candidate.settings))}).",
            "",
            "### With the chosen settings",
            "",
            f"One client, {len(lat)} requests one after another: "
            f"POST /predict p50 **{_ms(median(lat))} ms**, "
            f"p95 {_ms(percentile(lat, 95))} ms "
            f"(the floor: {_ms(results.best_floor.seconds) if results.floors else 'n/a'} ms).",
            "",
            *_table(
                ["clients", "requests", "errors", "songs/s", "p50 ms", "p95 ms", "p99 ms", "peak RSS MB"],
                [
                    [
                        str(r.clients),
                        str(len(r.outcomes)),
                        str(r.errors),
                        fmt(r.songs_per_s, 2),
                        _ms(r.latency.p50),
                        _ms(r.latency.p95),
                        _ms(r.latency.p99),
                        fmt(r.peak_rss / MB, 0),
                    ]
                    for r in service.levels
                ],
            ),
            "RSS of the server process (and children) when idle after warm-up: "
            f"{fmt(service.idle_rss / MB, 0)} MB;",
            "peak RSS is sampled every 50 ms with psutil during each level.",
            "",
        ]

    if results.naive:
        naive = results.naive
        steady = naive["seconds"][1:] or naive["seconds"]
        agree = _top_labels_agree(results)
        lines += [
            "## 3. Naive peer",
            "",
            "`librosa.load` at its defaults (22 050 Hz), `librosa.resample` to 16 kHz,",
            "`librosa.feature.melspectrogram`, the same log compression and 3-second segments, then",
            "`model.predict` of the Keras model; own process, same track.",
            "",
            *_table(
                ["", "ms per song"],
                [
                    ["first call (includes graph tracing)", _ms(naive["seconds"][0])],
                    [f"steady state (median of {len(steady)})", _ms(median(steady))],
                    [
                        "of which librosa front end",
                        _ms(median(naive["front_end_seconds"][1:] or naive["front_end_seconds"])),
                    ],
                ],
            ),
            f"Song-level top labels agree with the service pipeline's: {agree}.",
            "",
        ]

    if results.cold:
        rows = [
            [
                str(i + 1),
                fmt(c.ready_s, 2),
                fmt(c.phases.get("model loaded", math.nan), 2),
                fmt(c.phases.get("pipeline warmed up", math.nan), 2),
                _ms(c.first_s),
                _ms(median(c.steady_s)),
                fmt(c.first_over_steady, 2),
            ]
            for i, c in enumerate(results.cold)
        ]
        lines += [
            "## 4. Cold start",
            "",
            "`scripts/serve` started with the chosen settings; time from `Popen` to the first 200 of",
            "`GET /readyz` (polled every 10 ms), then the first POST /predict and 5 more (steady state).",
            "The log columns are seconds from the start to the server's own log lines. Each run begins",
            "with one extra, unreported start, which pays one-time setup (installing after a changed",
            "`pyproject.toml`, cold file cache).",
            "",
            *_table(
                [
                    "start",
                    "ready s",
                    "model loaded s",
                    "warmed up s",
                    "first ms",
                    "steady ms",
                    "first / steady",
                ],
                rows,
            ),
        ]

    if results.training:
        lines += _training_section(results, options)

    if results.quant:
        lines += _quant_section(results)

    if results.other_load:
        lines += [
            "## Other load during the run",
            "",
            "CPU used by processes outside the harness and its servers and subprocesses, sampled every",
            "2 s with psutil (100 % = one core of the two). Before each section the harness waits for",
            "running training jobs and busy processes to end.",
            "",
            *_table(
                ["section", "others, mean %", "others, max %", "busiest others", "harness process, mean %"],
                [
                    [name, fmt(mean, 0), fmt(peak, 0), who or "none", fmt(own, 0)]
                    for name, mean, peak, own, who in results.other_load
                ],
            ),
        ]

    lines += [
        "## Method",
        "",
        "- Timings use `time.perf_counter`; HTTP with `httpx`; memory with `psutil` (RSS of the server",
        "  process and its children).",
        "- Raw figures of the run: `reports/perf/raw/perf.json` (not committed).",
        f"- Command: `python -m bench.perf` (repeats {options.repeats}, "
        f"{options.requests} requests per level).",
        "",
    ]
    return "\n".join(lines)


def _top_labels_agree(results: Results) -> str:
    if not results.naive or not results.floor_song_probs:
        return "n/a"
    parts = []
    for task, probs in results.floor_song_probs.items():
        naive = results.naive["song_probs"].get(task)
        if naive is None:
            continue
        same = max(range(len(probs)), key=probs.__getitem__) == max(range(len(naive)), key=naive.__getitem__)
        parts.append(f"{task} {'yes' if same else 'no'}")
    return ", ".join(parts) or "n/a"


def _training_section(results: Results, options: Options) -> list[str]:
    base = next((t for t in results.training if t.variant == "baseline"), None)
    rows = [
        [
            f"`{t.variant}`",
            t.description,
            fmt(t.median, 1),
            ", ".join(fmt(r, 1) for r in t.segments_per_s),
            fmt(ratio(t.median, base.median), 2) if base else "n/a",
        ]
        for t in sorted(results.training, key=lambda t: -t.median)
    ]
    best = max(results.training, key=lambda t: t.median)
    forward = results.train_flops.get("forward", math.nan)
    train = results.train_flops.get("train", math.nan)
    peak, peak_text = peak_gflops()
    need = 100 * train / 1e9
    achieved = best.median * train / 1e9
    lines = [
        "## 6. Training loop",
        "",
        "`python -m bench.trainbench --variant NAME`, one process per variant: the loop of",
        "`training/train.py` (same network, loss weights, Adam at 1e-3, batch 32, `jit_compile=False`,",
        "batches from `training.dataset.epoch_batches` on the mel cache, no validation), "
        f"{options.train_steps} steps per epoch, {options.train_epochs} epochs; the first epoch (tracing) is",
        "excluded and the median of the others reported.",
        "",
        *_table(["variant", "what", "segments/s", "per epoch", "× baseline"], rows),
        f"Best measured: **{fmt(best.median, 1)} segments/s** with `{best.variant}` ({best.description}).",
        "",
        "### Is 100 segments/s reachable?",
        "",
        f"- Work per segment: {fmt(forward / 1e6, 0)} MFLOP forward (Conv2D and Dense multiply-adds), "
        f"{fmt(train / 1e9, 2)} GFLOP forward + backward",
        "  (backward = two forward passes per layer, none for the first layer's input).",
        f"- 100 segments/s therefore needs {fmt(need, 0)} GFLOP/s of convolution arithmetic alone.",
        f"- This CPU ({cpu_model()}): theoretical float32 peak ≈ {fmt(peak, 0)} GFLOP/s ({peak_text});",
        "  a float32 2048² matrix product with numpy's BLAS measured "
        f"{fmt(results.sgemm_gflops, 0)} GFLOP/s.",
        f"- Best measured loop: {fmt(achieved, 1)} GFLOP/s = "
        f"{fmt(achieved / results.sgemm_gflops * 100, 0)} % of the measured matrix-product speed.",
        f"- 100 segments/s would need {fmt(need / results.sgemm_gflops * 100, 0)} % of the measured "
        f"matrix-product speed ({fmt(need / peak * 100, 0)} % of theoretical peak) sustained over every",
        "  layer, backward passes included, with the memory-bound BatchNorm, pooling and dropout passes",
        "  costing nothing: not reachable on this CPU with this network in float32.",
        "",
    ]
    better = [
        t for t in results.training if base and t.variant != "baseline" and t.median >= 1.05 * base.median
    ]
    if base:
        lines += ["### Proposal for `training/train.py`", ""]
        if better:
            lines += [
                "Variants at least 5 % faster than the current loop "
                f"({fmt(base.median, 1)} segments/s), same network and same batches:",
                "",
                *[
                    f"- `{t.variant}`: {t.description}: {fmt(t.median, 1)} segments/s "
                    f"({fmt(ratio(t.median, base.median), 2)} ×)"
                    for t in sorted(better, key=lambda t: -t.median)
                ],
                "",
            ]
        else:
            lines += ["No variant was 5 % or more faster than the current loop; keep its settings.", ""]
    if results.profile:
        prof = results.profile
        lines += [
            "### Profile of the default loop (TensorFlow's profiler)",
            "",
            f"Op time on TensorFlow's compute threads over {prof.steps} steps after a warm-up epoch:",
            "",
            *_table(
                ["layer kind", "ms", "% of op time"],
                [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in prof.categories],
            ),
            *_table(
                ["op type", "ms", "% of op time"],
                [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in prof.top_ops],
            ),
        ]
    return lines


def _graph_section(results: Results) -> list[str]:
    g = results.graph
    if g is None:
        return []

    def first_block(ops: list[str]) -> str:
        trunk = [op for op in ops if op in ("Conv", "Relu", "Mul", "Add", "BatchNormalization", "MaxPool")]
        return " → ".join(trunk[: trunk.index("Conv", 1)])

    rows = [
        [
            f"intra {'default' if intra == 0 else intra}",
            _ms(median(plain)),
            _ms(median(exported)),
            f"{fmt(g.speedup(intra), 2)} ×",
        ]
        for intra, (plain, exported) in g.timings.items()
    ]
    return [
        "### The exported graph against tf2onnx's plain conversion",
        "",
        "The same Keras weights converted by tf2onnx as it is (each BatchNormalization becomes `Mul`",
        "and `Add`, and ONNX Runtime leaves its blocked layout around every `Add`) and as",
        "`songid export` writes them (one `BatchNormalization`, after the pooling where its scale is",
        f"positive); inference of the track's segments, batch {g.batch_size}, the two interleaved.",
        f"First block, plain: {first_block(g.plain_ops)}; exported: {first_block(g.exported_ops)}.",
        "",
        *_table(["ONNX Runtime threads", "plain ms", "exported ms", "speed-up"], rows),
        f"Largest output difference between the two: {g.max_abs_diff:.1e}.",
        "",
    ]


def _quant_section(results: Results) -> list[str]:
    q = results.quant
    if q is None:
        return []
    rows = []
    for task, levels in q.auc.items():
        for level, values in levels.items():
            fp32, int8 = values.get("fp32"), values.get("int8")
            change = fmt(int8 - fp32, 4) if fp32 is not None and int8 is not None else "n/a"
            rows.append(
                [
                    task,
                    level,
                    fmt(fp32, 4) if fp32 is not None else "n/a",
                    fmt(int8, 4) if int8 is not None else "n/a",
                    change,
                ]
            )
    return [
        "## 7. int8 model (optional)",
        "",
        "ONNX Runtime static quantization (QDQ, per-channel int8 weights, uint8 activations, MinMax",
        f"calibration on {q.calibration_segments} training-split segments from the mel cache). Written as a",
        "model folder outside `models/` (version 1 float32, version 2 int8; serve it with",
        "`SONGID_MODEL_DIR=<folder>` and `SONGID_MODEL_VERSION=1` or `2`).",
        "",
        *_table(
            ["", "float32", "int8", "speed-up"],
            [
                [
                    f"inference of the track's segments, intra {'default' if intra == 0 else intra}, ms",
                    _ms(median(fp32)),
                    _ms(median(int8)),
                    f"{fmt(q.speedup(intra), 2)} ×",
                ]
                for intra, (fp32, int8) in q.timings.items()
            ]
            + [["model file, MB", fmt(q.fp32_bytes / MB, 2), fmt(q.int8_bytes / MB, 2), ""]],
        ),
        f"Batch {q.batch_size}; float32 and int8 runs interleaved, so load drifts hit both alike.",
        "",
        f"Macro AUC-ROC on the test split ({q.n_test_songs} songs):",
        "",
        *_table(["task", "level", "float32", "int8", "change"], rows),
    ]
