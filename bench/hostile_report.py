"""The Markdown report and the summary table of ``bench.hostile``; every verdict comes from the
measurements."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.hostile_attacks import Attack, Check, Group, Outcome, Scale
from bench.hostile_watch import SLOW_HEALTHZ_S, Observed
from bench.stats import fmt, median


@dataclass(frozen=True)
class AttackRun:
    attack: Attack
    outcome: Outcome
    observed: Observed
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class Header:
    command_line: str
    started: str
    machine: list[str]
    settings: dict[str, str]
    server_command: tuple[str, ...]
    server_fd_limit: int
    harness_fd_limit: int
    upload: str
    unloaded_s: list[float]
    healthz_every_s: float
    healthz_timeout_s: float
    scale: Scale
    restarts: int = 0
    others: dict[str, str] = field(default_factory=dict)  # section -> other processes' CPU, % of a core


def counts(counter: Counter[str] | Counter[int]) -> str:
    """``"200: 3, timeout: 1"``, statuses in order, pseudo-statuses after them."""
    items = sorted(counter.items(), key=lambda kv: (not str(kv[0]).isdigit(), str(kv[0])))
    return ", ".join(f"{status}: {n}" for status, n in items) or "none"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def verdict(checks: Sequence[Check]) -> str:
    parts = [f"{c.name}: {yes_no(c.passed)}" + (f" ({c.detail})" if c.detail else "") for c in checks]
    return "; ".join(parts)


def ms(seconds: float) -> str:
    return fmt(seconds * 1000, 0)


def healthz_cell(seen: Observed) -> str:
    ok = seen.healthz_ok
    med = median(ok) if ok else math.nan
    top = max(ok) if ok else math.nan
    return f"{ms(med)} / {ms(top)}"


def ratio_cell(seen: Observed) -> str:
    ratio = "n/a" if math.isnan(seen.normal_ratio) else f"{seen.normal_ratio:.2f} x"
    refused = f", {seen.normal_refused} of {len(seen.normal)} not 200" if seen.normal_refused else ""
    return ratio + refused


def rss_cell(seen: Observed) -> str:
    return f"{seen.rss_start / 1e6:.0f} / {seen.rss_peak / 1e6:.0f} / {seen.rss_end / 1e6:.0f}"


def connection_table(runs: Sequence[AttackRun]) -> list[str]:
    """Classes 1-5 against their targets, one row each (none when none of them ran)."""
    chosen = [run for run in runs if run.attack.connection_targets]
    if not chosen:
        return []
    lines = [
        "| class | passed | healthz p99 ms (target <= 100) | normal client (target <= 2 x) "
        "| RSS MB before / peak / after (target peak < 2 x before) | 5xx but 503 (target 0) |",
        "|---|---|---|---|---|---|",
    ]
    for run in chosen:
        seen = run.observed
        errors = next((c.detail for c in run.checks if c.name == "no 5xx but 503"), "n/a")
        lines.append(
            f"| {run.attack.key} | {yes_no(run.passed)} | {ms(seen.healthz_p99)} | {ratio_cell(seen)} "
            f"| {rss_cell(seen)} | {errors} |"
        )
    return ["## Connection-level classes 1-5", "", *lines, ""]


def summary_table(runs: Sequence[AttackRun]) -> str:
    lines = [
        "| attack | passed | healthz ms median / max | > 1 s / failed | normal client | peak RSS MB "
        "| peak fds | log KB | alive |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        seen = run.observed
        lines.append(
            f"| {run.attack.key} | {yes_no(run.passed)} | {healthz_cell(seen)} "
            f"| {seen.healthz_slow} / {seen.healthz_failed} | {ratio_cell(seen)} "
            f"| {seen.rss_peak / 1e6:.0f} | {seen.fds_peak} | {seen.log.size / 1024:.1f} "
            f"| {yes_no(seen.alive)} |"
        )
    return "\n".join(lines)


def group_rows(groups: Sequence[Group]) -> list[str]:
    rows = [
        "| requests | sent | statuses | body bytes (max) | seconds (median / max) | server logged "
        "| expected | as expected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        seconds = [r.seconds for r in g.replies]
        took = f"{fmt(median(seconds), 2)} / {fmt(max(seconds), 2)}" if seconds else "n/a"
        body = max((r.body_size for r in g.replies), default=0)
        ok = "n/a" if g.ok is None else yes_no(g.ok)
        logged = counts(g.logged) if g.logged else ""
        rows.append(
            f"| {g.what} | {g.sent} | {counts(g.statuses)} | {body:,} | {took} | {logged} "
            f"| {g.expected} | {ok} |"
        )
    return rows


def section(index: int, run: AttackRun, others: str) -> list[str]:
    seen = run.observed
    normal = (
        f"unloaded {fmt(seen.unloaded_s, 3)} s ({seen.unloaded_when}), during {fmt(seen.normal_s, 3)} s "
        f"median of the 200 answers ({ratio_cell(seen)}); statuses {counts(seen.normal_statuses)}"
    )
    log = seen.log
    return [
        f"## {index}. {run.attack.title} (`{run.attack.key}`)",
        "",
        f"Target: {run.attack.target}.",
        "",
        *group_rows(run.outcome.groups),
        "",
        *(f"- {fact}" for fact in run.outcome.facts),
        *([""] if run.outcome.facts else []),
        "| measured during the attack | |",
        "|---|---|",
        f"| /healthz (ms, median / max) | {healthz_cell(seen)} of {len(seen.healthz)} probes; "
        f"{seen.healthz_slow} over {SLOW_HEALTHZ_S:g} s, "
        f"{seen.healthz_failed} failed{seen.healthz_failures} |",
        f"| normal client /predict | {normal} |",
        f"| /healthz p99 (ms) | {ms(seen.healthz_p99)} |",
        f"| RSS before / peak / after (MB) | {rss_cell(seen)} |",
        f"| peak open fds | {seen.fds_peak} (from {seen.fds_start}) |",
        f"| server log added | {log.size:,} bytes; statuses logged: {counts(log.statuses)}; "
        f"error records or non-JSON lines: {log.errors} |",
        f"| server alive after | {yes_no(seen.alive)} |",
        f"| wall time; harness CPU | {seen.wall_s:.1f} s; {seen.harness_cpu_s:.1f} s |",
        f"| other processes' CPU (mean / max, % of a core) | {others} |",
        "",
        f"**Verdict: {'PASS' if run.passed else 'FAIL'}** — {verdict(run.checks)}.",
        "",
    ]


def render(runs: Sequence[AttackRun], header: Header) -> str:
    settings = ", ".join(f"`{k}={v}`" for k, v in header.settings.items()) or "the shipped defaults"
    failed = [r.attack.key for r in runs if not r.passed]
    scale = ", ".join(f"{k}={v}" for k, v in vars(header.scale).items())
    return "\n".join(
        [
            "# Hostile clients",
            "",
            f"`{header.command_line}`, run {header.started}: the real server",
            f"(`{' '.join(header.server_command)}`, {settings}) on a loopback port, each attack in turn.",
            "",
            *header.machine,
            f"- Open-file limit: server {header.server_fd_limit}, harness {header.harness_fd_limit}",
            f"- Sizes: {scale}",
            f"- /healthz probed every {header.healthz_every_s:g} s on a new connection "
            f"(timeout {header.healthz_timeout_s:g} s)",
            f"- Normal client: {header.upload} to /predict, one at a time on new connections; unloaded "
            f"{fmt(median(header.unloaded_s), 3)} s median over {len(header.unloaded_s)} requests",
            "- Other processes' CPU while measuring it (mean / max, % of a core): "
            f"{header.others.get('unloaded', 'not sampled')}",
            *([f"- The server died and was restarted {header.restarts} time(s)"] if header.restarts else []),
            "",
            "## Summary",
            "",
            summary_table(runs),
            "",
            f"Attacks missing a target: {', '.join(failed) or 'none'}.",
            "",
            *connection_table(runs),
            *(
                line
                for i, run in enumerate(runs, 1)
                for line in section(i, run, header.others.get(run.attack.key, "not sampled"))
            ),
        ]
    )
