"""The short model card written beside an exported model."""

from __future__ import annotations

from typing import Any

from frontend.audio import FRONTEND_PARAMS
from frontend.centroids import ArtistCentroids
from frontend.components import Components
from frontend.openset import OpenSetRule

CLOSED_SET = "It can only name these labels: any other performer is mapped to the nearest known one."
OPEN_SET = "Songs unlike every known label may be answered `unknown` (see Open set)."
OPENSET_HEADING = "## Open set"


def _batch_norm_line(config: dict[str, Any]) -> str:
    final = config.get("bn_calibration_segments") or 0
    epoch = config.get("bn_epoch_calibration_segments") or 0
    measured = "BatchNorm statistics measured at inference (dropout off) on"
    if final:
        return f"{measured} {final} training segments"
    if epoch:
        return f"{measured} {epoch} training segments, each epoch"
    return "BatchNorm statistics: the running ones of training (not calibrated)"


def _metrics_table(metrics: dict[str, Any]) -> str:
    tasks = metrics.get("tasks", {})
    if not tasks:
        return "No evaluation metrics were recorded for this export.\n"
    rows = ["| task | level | AUC-ROC | AUC-PR | top-1 | macro-F1 |", "|---|---|---|---|---|---|"]
    for task, levels in tasks.items():
        for level, m in levels.items():
            cells = [
                "n/a" if m.get(k) is None else f"{m[k]:.3f}"
                for k in ("auc_roc", "auc_pr", "top1", "macro_f1")
            ]
            rows.append(f"| {task} | {level} | " + " | ".join(cells) + " |")
    n_songs = metrics.get("n_songs", "?")
    return (
        f"Measured on {n_songs} held-out {metrics.get('split', 'test')} songs:\n\n" + "\n".join(rows) + "\n"
    )


def model_card(
    name: str, version: int, labels: dict[str, list[str]], config: dict[str, Any], metrics: dict[str, Any]
) -> str:
    """Markdown: what the model is, what it knows, how it was trained and how well it does."""
    export = metrics.get("export", {})
    notes = config.get("notes", {})
    label_lines = "\n".join(f"- `{t}`: {len(v)} classes: {', '.join(v)}" for t, v in labels.items())
    return f"""# Model card: {name} (version {version})

Multitask CNN after Singh & Biswas, *Multitask Learning based Deep Learning Model for Music Artist
and Language Recognition*: five Conv2D blocks (32, 64, 128, 64, 32 channels) on 3-second log-mel
segments (187 frames x 96 bands), one softmax head per task. Song-level predictions average the
segment probabilities.

## What it knows
{label_lines}

{CLOSED_SET}

## Training
- data: {notes.get("description") or notes.get("data", "not recorded")}
- tasks {config.get("tasks")}; second-task loss weight alpha {config.get("alpha")} (None = N_first / N_second)
- Adam, learning rate {config.get("learning_rate")}, batch {config.get("batch_size")}; at most
  {config.get("segments_per_song")} segments per song per epoch; early stopping on validation loss
  (patience {config.get("patience")}, best weights kept); seed {config.get("seed")}
- {_batch_norm_line(config)}
- {export.get("params", "?")} parameters; ONNX opset {export.get("onnx_opset", "?")}; largest difference
  between ONNX Runtime and Keras outputs on a random batch: {_parity_text(export)}

## Metrics
{_metrics_table(metrics)}
## Front end
{", ".join(f"{k}={v}" for k, v in FRONTEND_PARAMS.items())}
"""


def with_openset(card: str, rules: dict[str, OpenSetRule]) -> str:
    """``card`` with its open-set section (before the front end's) saying what each rule does."""
    lines = [
        f"- `{task}`: `{rule.score}` >= {rule.threshold:g} is known, else unknown; measured: "
        + ", ".join(f"{key} {value}" for key, value in rule.calibration.items())
        for task, rule in rules.items()
    ]
    section = (
        f"{OPENSET_HEADING}\n"
        + "\n".join(lines)
        + "\n\nA task without a rule answers its closed-set choice. Silence, noise, a steady tone and "
        "clips under 2 s of sound are answered no_evidence before the network runs. `unknown` means the "
        "song's score is under the threshold: unlike the labels it knows. It is a filter, not a verdict: "
        "how many songs by people the network never saw it still lets through is measured above and, "
        "for networks trained without some artists, in the project's reports/openset.md.\n\n"
    )
    card = card.replace(
        CLOSED_SET, "Songs unlike every known label may be answered `unknown` (see Open set)."
    )
    return with_section(card, OPENSET_HEADING, section)


GALLERY_HEADING = "## Artist gallery"


def with_centroids(card: str, centroids: ArtistCentroids) -> str:
    """``card`` with its artist-gallery section (before the front end's): what centroids.json holds."""
    measured = ", ".join(f"{key} {value}" for key, value in centroids.calibration.items())
    section = (
        f"{GALLERY_HEADING}\n"
        f"The `embedding` output (the trunk's {centroids.dim} features every head reads) is compared with "
        f"each artist's mean embedding (cosine, centred on the training songs' mean): "
        f"{len(centroids.ids)} trained artists in `centroids.json`, and any enrolled through `/artists`. "
        f"A song is a known artist at cosine >= {centroids.threshold:g} once artists are enrolled; measured: "
        f"{measured}.\n\n"
    )
    return with_section(card, GALLERY_HEADING, section)


COMPONENTS_HEADING = "## Components"


def with_components(card: str, components: Components) -> str:
    """``card`` with a section listing the folder's components, their files and provenance."""
    lines = [COMPONENTS_HEADING, ""]
    for c in components.components:
        p = c.provenance
        lines.append(
            f"- `{c.name}` ({c.role}): {p.source}; licence {p.licence}; trained on {p.training_data}"
        )
        lines += [f"  - `{path}` sha256 `{sha}`" for path, sha in c.files.items()]
        lines += [f"  - {key}: {value}" for key, value in p.details.items()]
    gallery = f"`{components.gallery_task}`" if components.gallery_task else "none"
    lines += [
        "",
        f"The gallery serves the task {gallery}. Every file is checked against its hash at load.",
        "",
    ]
    return with_section(card, COMPONENTS_HEADING, "\n".join(lines) + "\n")


def with_section(card: str, heading: str, section: str) -> str:
    """``card`` with ``section`` (starting with ``heading``) before the front end's section, in
    place of an earlier one under the same heading."""
    if heading in card:
        before, _, after = card.partition(heading)
        card = before + after[after.index("## ") :]
    before, front_end, after = card.partition("## Front end")
    return before + section + front_end + after


def _parity_text(export: dict[str, Any]) -> str:
    """The export's parity figure: relative since the tolerance became relative, absolute before."""
    if "parity_max_rel_diff" in export:
        return f"{export['parity_max_rel_diff']} (relative to each output's largest magnitude, or 1)"
    return f"{export.get('parity_max_abs_diff', '?')} (absolute)"
