"""The Markdown that ``bench.evidence`` prints: a table per set, the margins to each threshold,
the excerpts' verdicts and the synthetic inputs one by one."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from bench.evidence_measure import EXCERPT_S, Measured
from frontend import evidence
from frontend.evidence import Evidence


def _pick(values: Sequence[float], pick: Callable[[Sequence[float]], float], digits: int) -> str:
    finite = [v for v in values if not math.isnan(v)]
    return f"{pick(finite):.{digits}f}" if finite else "–"


def _reasons(verdicts: Sequence[Evidence]) -> str:
    counts = Counter(r for v in verdicts for r in v.reasons)
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "–"


def set_lines(sets: dict[str, list[Measured]]) -> list[str]:
    lines = [
        "| set | files | minutes | no evidence | reasons | min sustained s | min variation "
        "| max variation | peak jitter | assess ms per min of audio |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for name, rows in sets.items():
        verdicts = [m.verdict for m in rows]
        minutes = sum(v.duration_s for v in verdicts) / 60
        variation = [v.variation for v in verdicts]
        jitter = [v.peak_jitter for v in verdicts]
        lines.append(
            f"| {name} | {len(rows)} | {minutes:.1f} | {sum(not v.present for v in verdicts)} "
            f"| {_reasons(verdicts)} | {min((v.sustained_s for v in verdicts), default=math.nan):.2f} "
            f"| {_pick(variation, min, 3)} | {_pick(variation, max, 3)} "
            f"| {_pick(jitter, min, 3)} – {_pick(jitter, max, 3)} "
            f"| {1000 * sum(m.assess_s for m in rows) / max(minutes, 1e-9):.2f} |"
        )
    return lines


def margin_lines(groups: Mapping[str, Sequence[Evidence]], corpus: Sequence[Measured]) -> list[str]:
    """How far the values closest to each threshold are from it."""
    lines = []
    for name, verdicts in groups.items():
        if verdicts:
            sustained = min(v.sustained_s for v in verdicts)
            variation = min(v.variation for v in verdicts)
            lines.append(
                f"- {name}: sustained sound at least {sustained:.2f} s "
                f"({sustained / evidence.MIN_AUDIBLE_S:.1f} x min_audible_s), variation at least "
                f"{variation:.3f} bel ({variation / evidence.MIN_VARIATION:.2f} x min_variation)"
            )
    steady = [m.verdict for m in corpus if m.verdict.sustained_s >= evidence.MIN_AUDIBLE_S]
    if steady:
        top = max(v.variation for v in steady)
        lines.append(
            f"- corpus with sustained sound (noise, tones, DC): variation at most {top:.3f} bel "
            f"(min_variation / {evidence.MIN_VARIATION / top:.2f})"
        )
    quiet = [m.verdict for m in corpus if m.verdict.reasons and m.verdict.reasons[0] in ("silence", "clicks")]
    if quiet:
        most = max(v.sustained_s for v in quiet)
        lines.append(
            f"- corpus of silence and clicks: sustained sound at most {most:.2f} s; "
            f"silent inputs peak at {max(v.max_level for v in quiet if not v.audible_s):.2f} bel "
            f"(silence_floor {evidence.SILENCE_FLOOR})"
        )
    return lines


def excerpt_lines(excerpts: dict[str, list[tuple[float, Evidence]]]) -> list[str]:
    lines = [
        "| set | excerpt s | excerpts | no evidence | share | reasons |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, rows in excerpts.items():
        for seconds in EXCERPT_S:
            verdicts = [v for s, v in rows if s == seconds]
            if verdicts:
                bad = sum(not v.present for v in verdicts)
                lines.append(
                    f"| {name} | {seconds:g} | {len(verdicts)} | {bad} | {100 * bad / len(verdicts):.1f} % "
                    f"| {_reasons(verdicts)} |"
                )
    return lines


def corpus_lines(rows: Sequence[Measured]) -> list[str]:
    lines = [
        "| input | expected | verdict | max level | audible s | sustained s | variation | peak jitter |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        v = m.verdict
        lines.append(
            f"| {m.name} | {m.expected or 'evidence'} | {', '.join(v.reasons) or 'evidence'} "
            f"| {v.max_level:.2f} | {v.audible_s:.2f} | {v.sustained_s:.2f} | {v.variation:.3f} "
            f"| {v.peak_jitter:.3f} |"
        )
    return lines
