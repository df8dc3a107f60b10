"""``reports/language.md``: the language study's figures, from its records, against the targets."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np

from training.studies.language_expert_report import EXPERT_HEADING
from training.studies.openset_report import machine

TARGETS: Final = {
    "singing_zxx_max": 0.10,
    "instrumental_zxx_min": 0.95,
    "unseen_top1_min": 0.5,
    "over_majority": 0.2,
}
SETS: Final = {
    "unseen_speaker": "(a) held-out speakers' speech",
    "instrumental": "(b) instrumental test tracks",
    "singing_dplace": "(b) D-PLACE singing, test societies",
    "singing_muldjord": "(b) muldjord mixes (growled vocals)",
    "singing_known_language": "(c) D-PLACE singing in a label-set language",
}
MODELS: Final = {"cnn": "paper's CNN", "baseline": "trivial baseline"}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _mean(records: list[dict[str, Any]], model: str, name: str, field: str) -> float | None:
    values = [r[model][name][field] for r in records if r[model][name][field] is not None]
    return float(np.mean(values)) if values else None


def _served(records: list[dict[str, Any]], name: str, field: str) -> float | None:
    """The mean of a figure as served (the open-set rule applied) over the records that have it."""
    values = [r["cnn"][name]["served"][field] for r in records if r["cnn"][name].get("served")]
    return float(np.mean(values)) if values else None


def _table(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| test set | model | songs | answered zxx | top-1 | macro recall | majority rate | chance "
        "| served: zxx | served: unknown | served: top-1 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, title in SETS.items():
        for model, model_title in MODELS.items():
            songs = sum(r[model][name]["songs"] for r in records)
            cells = [_pct(_mean(records, model, name, "zxx_rate"))]
            ranked = name in ("unseen_speaker", "singing_known_language")  # sets with a language to name
            if ranked:
                cells += [
                    _num(_mean(records, model, name, f))
                    for f in ("top1", "macro_recall", "majority_rate", "chance")
                ]
            else:
                cells += ["-"] * 4
            served = model == "cnn"  # the baseline has no open-set rule
            cells += [
                _pct(_served(records, name, "zxx_rate")) if served else "-",
                _pct(_served(records, name, "unknown_rate")) if served else "-",
                _num(_served(records, name, "top1")) if served and ranked else "-",
            ]
            lines.append(f"| {title} | {model_title} | {songs} | " + " | ".join(cells) + " |")
    return lines


def _points(gap: float) -> str:
    """A rate target's verdict from its gap (how far the rate is on the wrong side)."""
    return "met" if gap <= 0 else f"**missed**, by {100 * gap:.1f} points"


def _short(gap: float) -> str:
    """A top-1 target's verdict from its gap."""
    return "met" if gap <= 0 else f"**missed**, by {gap:.3f}"


def _verdicts(records: list[dict[str, Any]]) -> list[str]:
    singing = _mean(records, "cnn", "singing_dplace", "zxx_rate")
    muldjord = _mean(records, "cnn", "singing_muldjord", "zxx_rate")
    instrumental = _mean(records, "cnn", "instrumental", "zxx_rate")
    top1 = _mean(records, "cnn", "unseen_speaker", "top1")
    majority = _mean(records, "cnn", "unseen_speaker", "majority_rate")
    need = max(TARGETS["unseen_top1_min"], (majority or 0.0) + TARGETS["over_majority"])
    out = []
    if singing is not None:
        out.append(
            f"- Real singing answered zxx <= 10 %: D-PLACE {_pct(singing)} "
            f"({_points(singing - TARGETS['singing_zxx_max'])}); muldjord mixes {_pct(muldjord)}."
        )
    if instrumental is not None:
        out.append(
            f"- Instrumental test tracks answered zxx >= 95 %: {_pct(instrumental)} "
            f"({_points(TARGETS['instrumental_zxx_min'] - instrumental)})."
        )
    if top1 is not None and majority is not None:
        out.append(
            f"- Unseen-speaker song top-1 >= 0.5 and >= majority + 0.2 (= {need:.3f}): {top1:.3f} "
            f"({_short(need - top1)})."
        )
    sung = _served(records, "singing_dplace", "zxx_rate")
    played = _served(records, "instrumental", "zxx_rate")
    spoken = _served(records, "unseen_speaker", "top1")
    if sung is not None and played is not None and spoken is not None:
        out.append(
            f"- As served (the open-set rule applied): D-PLACE singing answered zxx {_pct(sung)} "
            f"({_points(sung - TARGETS['singing_zxx_max'])}), "
            f"unknown {_pct(_served(records, 'singing_dplace', 'unknown_rate'))}; instrumental zxx "
            f"{_pct(played)} ({_points(TARGETS['instrumental_zxx_min'] - played)}); unseen-speaker top-1 "
            f"{spoken:.3f} ({_short(need - spoken)})."
        )
    return out


def planned_runs(
    recipes: Iterable[str], folds: Iterable[int], seeds: Iterable[int], records: list[dict[str, Any]]
) -> int:
    """The runs a report counts as planned: a command's own and those recorded before it (the
    report shows both), each once; smoke runs are no result."""
    asked = {(r, f, s) for r in recipes for f in folds for s in seeds}
    recorded = {(r["recipe"], r["fold"], r["seed"]) for r in records if not r.get("smoke")}
    return len(asked | recorded)


def render(records: list[dict[str, Any]], *, planned: int) -> str:
    done = [r for r in records if not r.get("smoke")]
    lines = [
        "# Language: unseen speakers, vocals against zxx, sung languages",
        "",
        "Written by `songid language-study` (resumable; one record per run in `reports/runs/language/`).",
        f"Runs: {len(done)} of {planned} planned. Report written on {machine()}; each run was measured "
        "on the machine that ran it.",
        "",
        "Protocol (`training/studies/language.py`): one mel cache of voices, tuxpaint, fillets and gcompris",
        "(speech), gamemusic (instrumental, `zxx`) and dplace (real singing). Label set: `zxx` and every",
        "language with at least 5 one-minute speech songs. Fold k holds out the k-th named voice of every",
        "label-set language with two or more; instrumental tracks split 80/10/10; D-PLACE excerpts split",
        "by society (half of the societies test, in every language; of the others, those in label-set",
        "languages train and validate); the muldjord mixes never train. Every training speech song is",
        "trained once more mixed over an excerpt of a training track, 5 dB under to 10 dB over it.",
        "Recipes: `mixed` is that; `sung` also makes half of those copies sung-like (speed x0.85-1.2 and a",
        "5-7 Hz vibrato of up to 80 cents) and trains the language head towards uniform on the training",
        "societies' singing in languages outside the label set (outlier exposure, weight 0.5); `voiced` is",
        "`sung` with that target uniform over the languages only, `zxx` left out (someone sings). Answers",
        "are the song-level argmax of the language head (no open-set rule); the `served` columns answer",
        "as the service does: a song whose top probability is under the threshold that rejects 10 % of",
        "the run's validation songs is `unknown` (top-1 counts it wrong). Figures are means over a",
        "recipe's runs; songs are summed.",
        "",
    ]
    if not done:
        return "\n".join([*lines, "No run finished yet.", ""])
    for recipe in sorted({r.get("recipe", "mixed") for r in done}):
        chosen = [r for r in done if r.get("recipe", "mixed") == recipe]
        lines += [f"## Recipe `{recipe}`", "", *_table(chosen), "", "Targets (paper's CNN):", ""]
        lines += [*_verdicts(chosen), ""]
    lines += ["## Runs", ""]
    for r in done:
        train = r.get("train", {})
        lines.append(
            f"- `{r['key']}`: held out {', '.join(r['held_out'])}; {r['songs']['train']} training songs "
            f"(+{r['songs']['mixed_copies']} mixed copies, {r['songs'].get('exposure', 0)} exposure), "
            f"{len(r['labels'])} labels; {train.get('epochs', '-')} epochs, "
            f"{train.get('wall_s', 0) / 60:.0f} min."
        )
        speech = r["cnn"]["unseen_speaker"]["per_language"]
        recalls = ", ".join(f"{lang} {v['recall']:.2f} ({v['songs']})" for lang, v in speech.items())
        lines.append(f"  Held-out speech, recall per language (songs): {recalls}.")
        answers = r["cnn"]["singing_dplace"]["answers"]
        lines.append(
            "  D-PLACE test excerpts answered: " + ", ".join(f"{k} {v}" for k, v in answers.items()) + "."
        )
    return "\n".join([*lines, ""])


def write(records: list[dict[str, Any]], out: Path, *, planned: int) -> None:
    """Write the report; the language expert's section, where the report has one, is kept."""
    out.parent.mkdir(parents=True, exist_ok=True)
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    kept = old[old.index(EXPERT_HEADING) :] if EXPERT_HEADING in old else ""
    out.write_text(render(records, planned=planned) + ("\n" + kept if kept else ""), encoding="utf-8")


LANGUAGE_HEADING: Final = "## Language"


def card_section(records: list[dict[str, Any]], recipe: str, labels: list[str]) -> str:
    """The model card's language section: what it knows, from what, and what its answers are worth,
    from the study's runs of ``recipe`` (networks trained the same way without some speakers)."""
    chosen = [r for r in records if r.get("recipe") == recipe and not r.get("smoke")]
    if not chosen:
        raise ValueError(f"no finished language-study run of recipe {recipe!r}")

    def num(name: str, field: str) -> str:
        return _num(_mean(chosen, "cnn", name, field))

    def pct(name: str) -> str:
        return _pct(_mean(chosen, "cnn", name, "zxx_rate"))

    def against(name: str) -> str:
        return f"majority rate {num(name, 'majority_rate')}, chance {num(name, 'chance')}"

    known = [label for label in labels if label != "zxx"]
    sung = "singing_known_language"
    lines = [
        f"- knows {len(known)} languages ({', '.join(known)}) and `zxx`, no vocals. Learnt from speech "
        "(telephone prompts, read stamp descriptions, acted game dialogue, read words and sentences: the "
        "voices, tuxpaint, fillets and gcompris benchmarks), each training recording also mixed over "
        "instrumental music (half of them made sung-like); real singing in those languages (D-PLACE "
        "excerpts); `zxx` from instrumental game soundtracks; singing in other languages taught as some "
        "language, not `zxx` (outlier exposure). A language with under 5 minutes of speech here is not a "
        "label: speech in it should be answered `unknown`.",
        f"- what its answers are worth (reports/language.md, recipe `{recipe}`: {len(chosen)} networks "
        "trained the same way without some speakers and singing societies; means):",
        f"  - speech by a speaker it never heard: song top-1 {num('unseen_speaker', 'top1')} "
        f"({against('unseen_speaker')})",
        f"  - real singing answered `zxx`: {pct('singing_dplace')} of the D-PLACE excerpts, "
        f"{pct('singing_muldjord')} of the growled muldjord mixes; instrumental test tracks answered "
        f"`zxx`: {pct('instrumental')}",
        f"  - the language of real singing in a language it knows: top-1 {num(sung, 'top1')}, macro recall "
        f"{num(sung, 'macro_recall')} ({against(sung)})",
    ]
    if _served(chosen, "singing_dplace", "zxx_rate") is not None:
        lines.append(
            "  - as the service answers (the open-set rule applied): real singing answered `zxx` "
            f"{_pct(_served(chosen, 'singing_dplace', 'zxx_rate'))}, `unknown` "
            f"{_pct(_served(chosen, 'singing_dplace', 'unknown_rate'))}; instrumental test tracks `zxx` "
            f"{_pct(_served(chosen, 'instrumental', 'zxx_rate'))}; speech by a speaker it never heard, "
            f"top-1 {_num(_served(chosen, 'unseen_speaker', 'top1'))}"
        )
    return f"{LANGUAGE_HEADING}\n" + "\n".join(lines) + "\n\n"
