"""One run of the open-set study: split, train, export, then every score measured on the export.

Imports TensorFlow (through training and export); :mod:`training.studies.openset` imports this
lazily.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
from tqdm import tqdm

from frontend.artifact import load_artifact
from frontend.audio import SAMPLE_RATE, load_audio, log_mel
from frontend.evidence import assess
from training.catalog import Song
from training.export import export_run
from training.openset import Network, Score, SongOutputs, keep_outputs, measure_every_score, restore_outputs
from training.prepare import mel_path
from training.signals import no_evidence_corpus
from training.split import SPLITS, write_split
from training.studies.compare import run_variant
from training.studies.openset import StudyRun, study_split

EXPORT_DIR = "export"
MODEL_NAME = "study"
NO_EVIDENCE_SECONDS = 10.0  # per corpus item, at the model's rate


OUTPUTS_FILE = "outputs.npz"  # every song's outputs, kept so a new score only measures


def _songs_outputs(network: Network, run: StudyRun, songs: list[Song]) -> list[SongOutputs]:
    store_path = run.run_dir / OUTPUTS_FILE
    store = dict(np.load(store_path)) if store_path.is_file() else {}
    todo = [s for s in songs if f"{s.song_id}/segments" not in store]
    for s in tqdm(todo, desc=run.key):
        keep_outputs(store, s.song_id, network.song(np.load(mel_path(run.cache_dir, s.song_id))))
    if todo:
        np.savez(store_path, **store)
    return [restore_outputs(store, s.song_id, network.tasks) for s in songs]


def _no_evidence(network: Network, scores: dict[str, Score], thresholds: dict[str, float]) -> dict[str, Any]:
    """How many corpus items each score accepts as a known artist, with and without the gate."""
    items = list(no_evidence_corpus(NO_EVIDENCE_SECONDS, rates=(SAMPLE_RATE,)))
    gated = {name: 0 for name in scores}
    ungated = dict(gated)
    for item in items:
        samples = load_audio(item.data)
        mel = log_mel(samples)
        if mel.shape[0] == 0:
            continue  # nothing to score: even without the gate no answer is possible
        song = network.song(mel)
        passes = assess(mel, duration_s=samples.size / SAMPLE_RATE).present
        for name, score in scores.items():
            if score(song) >= thresholds[name]:
                ungated[name] += 1
                gated[name] += int(passes)
    return {"items": len(items), "known_with_gate": gated, "known_without_gate": ungated}


def measure_run(
    run: StudyRun, songs: list[Song], exposure: list[Song], *, smoke: bool = False
) -> dict[str, Any]:
    """Train (or resume) the run, export it, and measure every open-set score on its songs."""
    assignment = study_split(songs, run.held_out, exposure, seed=run.seed)
    split_file = run.run_dir.parent / f"{run.run_dir.name}.split.json"
    write_split(split_file, assignment, seed=run.seed, held_out=list(run.held_out))
    closed = run_variant(run.cache_dir, split_file, run.run_dir, run.config(smoke=smoke))
    model_dir = export_run(run.run_dir, run.run_dir / EXPORT_DIR, name=MODEL_NAME)
    artifact = load_artifact(model_dir)
    network = Network(artifact)
    ids = [label.id for label in artifact.labels["artist"]]
    parts = {part: [s for s in songs if assignment.get(s.song_id) == part] for part in SPLITS}
    unknown = [s for s in songs if s.labels["artist"] in run.held_out]
    outputs = {part: _songs_outputs(network, run, chosen) for part, chosen in parts.items()}
    outputs["unknown"] = _songs_outputs(network, run, unknown)
    labels = {
        part: np.array([ids.index(s.labels["artist"]) for s in chosen]) for part, chosen in parts.items()
    }
    scores, figures = measure_every_score(outputs, labels, "artist")
    thresholds = {name: f.threshold for name, f in figures.items()}
    test_top1 = np.mean([int(np.argmax(s.probs["artist"])) for s in outputs["test"]] == labels["test"])
    return {
        "songs": {part: len(chosen) for part, chosen in parts.items()}
        | {"unknown": len(unknown), "exposure": len(exposure)},
        "closed_set_song_top1": float(test_top1),
        "scores": {name: asdict(f) for name, f in figures.items()},
        "no_evidence": _no_evidence(network, scores, thresholds),
        "train": closed.get("train", {}),
    }
