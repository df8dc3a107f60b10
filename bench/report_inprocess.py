"""Section 1 of ``reports/perf.md``: the pipeline in-process (floor, threads, profile, graph, front end)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bench.markdown import ms, table
from bench.stats import fmt, median

if TYPE_CHECKING:
    from bench.inprocess import Floor
    from bench.perf_options import Options
    from bench.perf_results import Results


def _floor_rows(floors: list[Floor]) -> list[list[str]]:
    return [
        [
            f.settings.label(),
            ms(f.seconds),
            ms(median(f.decode)),
            ms(median(f.mel)),
            ms(median(f.infer)),
            fmt(f.songs_per_s, 2),
            str(f.n_segments),
        ]
        for f in floors
    ]


def floor_section(results: Results, options: Options) -> list[str]:
    """The floor table, and the network's arithmetic speed where its FLOPs were counted."""
    lines: list[str] = []
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
            *table(
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
            f"Floor used for the targets: **{ms(best.seconds)} ms** per song ({best.settings.label()}), "
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
    return lines


def streams_section(results: Results, options: Options) -> list[str]:
    """ONNX Runtime thread settings with several songs analysed at once."""
    if not results.streams:
        return []
    rows = [
        [s.settings.label(), str(s.streams), fmt(s.songs_per_s, 2), ms(s.latency_p50)]
        for s in results.streams
    ]
    return [
        "### ONNX Runtime threads with several songs at once",
        "",
        "The same pipeline with `streams` songs analysed at once by worker threads (as the",
        f"service's slots do); {options.songs_per_stream} songs per stream, "
        f"{options.stream_rounds} interleaved rounds (songs/s: median of the rounds); latency per song.",
        "`automatic` is the service's default: every core for a song alone, one thread each otherwise.",
        "",
        *table(["settings", "streams", "songs/s", "latency p50 ms"], rows),
    ]


def ort_profile_section(results: Results) -> list[str]:
    """ONNX Runtime's own profile of inference, by operator type."""
    if not results.ort_profile:
        return []
    rows = [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in results.ort_profile]
    return [
        "### Inference profile (ONNX Runtime's own, by operator type)",
        "",
        *table(["operator", "ms (all runs)", "% of node time"], rows),
    ]


def graph_section(results: Results) -> list[str]:
    g = results.graph
    if g is None:
        return []

    def first_block(ops: list[str]) -> str:
        trunk = [op for op in ops if op in ("Conv", "Relu", "Mul", "Add", "BatchNormalization", "MaxPool")]
        return " → ".join(trunk[: trunk.index("Conv", 1)])

    rows = [
        [
            f"intra {'default' if intra == 0 else intra}",
            ms(median(plain)),
            ms(median(exported)),
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
        *table(["ONNX Runtime threads", "plain ms", "exported ms", "speed-up"], rows),
        f"Largest output difference between the two: {g.max_abs_diff:.1e}.",
        "",
    ]


def frontend_section(results: Results) -> list[str]:
    """The front end's log-mel against librosa's, same samples."""
    if not results.frontend:
        return []
    fe = results.frontend
    return [
        "### Front end against librosa",
        "",
        "`frontend.audio.log_mel` (numpy STFT and mel filters) against the same log-mel computed",
        "with `librosa.stft` and `librosa.filters.mel`, on the track's samples:",
        "",
        *table(
            ["implementation", "ms", "max abs difference"],
            [
                ["frontend.audio.log_mel", ms(median(fe.frontend_s)), fmt(fe.max_abs_diff, 7)],
                ["librosa reference", ms(median(fe.librosa_s)), "0"],
            ],
        ),
        f"Values are log10(1 + 10^4 S) up to {fmt(fe.max_value, 2)}; the largest difference over "
        f"{fe.n_values} values is float32 rounding of the mel matrix product.",
        "",
    ]


def inprocess_sections(results: Results, options: Options) -> list[str]:
    """Section 1 whole: every part of it that the run measured, in report order."""
    return [
        *floor_section(results, options),
        *streams_section(results, options),
        *ort_profile_section(results),
        *graph_section(results),
        *frontend_section(results),
    ]
