"""Sections 6 and 7 of ``reports/perf.md``: the training loop's speed and the int8 model."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bench.machine import cpu_model, peak_gflops
from bench.markdown import MB, ms, table
from bench.stats import fmt, median, ratio

if TYPE_CHECKING:
    from bench.perf_options import Options
    from bench.perf_results import Results


def training_section(results: Results, options: Options) -> list[str]:
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
        *table(["variant", "what", "segments/s", "per epoch", "× baseline"], rows),
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
            *table(
                ["layer kind", "ms", "% of op time"],
                [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in prof.categories],
            ),
            *table(
                ["op type", "ms", "% of op time"],
                [[s.name, fmt(s.ms, 0), fmt(s.share * 100, 1)] for s in prof.top_ops],
            ),
        ]
    return lines


def quant_section(results: Results) -> list[str]:
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
        *table(
            ["", "float32", "int8", "speed-up"],
            [
                [
                    f"inference of the track's segments, intra {'default' if intra == 0 else intra}, ms",
                    ms(median(fp32)),
                    ms(median(int8)),
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
        *table(["task", "level", "float32", "int8", "change"], rows),
    ]
