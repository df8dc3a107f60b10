"""Markdown for ``reports/perf.md`` from one run's :class:`bench.perf_results.Results`.

This module writes the header, the machine, the targets, the other load and the method; each
numbered section comes from the module of its part of the run (``bench.report_*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.machine import machine_lines
from bench.markdown import MB, table
from bench.report_inprocess import inprocess_sections
from bench.report_service import cold_section, naive_section, service_section
from bench.report_targets import targets
from bench.report_training import quant_section, training_section
from bench.stats import fmt

if TYPE_CHECKING:
    from bench.perf_options import Options
    from bench.perf_results import Results


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


def render(results: Results, options: Options) -> str:
    """The whole report, as Markdown text."""
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
        *table(["Target", "Measured", "Verdict"], targets(results)),
    ]
    lines += inprocess_sections(results, options)
    lines += service_section(results, options)
    lines += naive_section(results)
    lines += cold_section(results)

    if results.training:
        lines += training_section(results, options)

    if results.quant:
        lines += quant_section(results)

    if results.other_load:
        lines += [
            "## Other load during the run",
            "",
            "CPU used by processes outside the harness and its servers and subprocesses, sampled every",
            "2 s with psutil (100 % = one core of the two). Before each section the harness waits for",
            "running training jobs and busy processes to end.",
            "",
            *table(
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
