"""``songid centroids``: write a model folder's ``centroids.json`` (frontend/centroids.py).

From the training songs: the centre (their mean song embedding) and each artist's mean. The
threshold is set on the validation songs (the best cosine of all but VAL_FALSE_REJECTS of them
reaches it); the calibration records what it gives on the test songs and, when a manifest of
songs by other people is given, on those (false accepts, AUROC).

A model folder exported before the embedding was an output gets it here, on disk: the ONNX graph
gains the tensor every head reads (the heads' outputs are unchanged) and ``signature.json`` names it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import onnx
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

from frontend.artifact import CARD_FILE, SIGNATURE_FILE, TRITON_CONFIG_FILE, load_artifact
from frontend.centroids import ArtistCentroids, unit_rows
from frontend.model_folder import triton_config, write_centroids, write_network
from frontend.signature import EMBEDDING, Signature, TensorSpec
from training.card import with_centroids
from training.catalog import labelled
from training.onnx_graph import expose_head_input
from training.openset import VAL_FALSE_REJECTS, Network, SongOutputs, val_threshold
from training.openset_report import manifest_paths
from training.prepare import mel_path
from training.run_folder import songs_by_split
from training.split import SPLITS


def expose_embedding(model_dir: Path) -> bool:
    """Add the ``embedding`` output to the folder's ONNX and signature; False when it has one."""
    artifact = load_artifact(model_dir)
    if EMBEDDING in artifact.signature.tensors:
        return False
    proto = onnx.load(artifact.onnx_path)
    width = expose_head_input(proto, artifact.tasks, EMBEDDING)
    write_network(artifact, proto.SerializeToString())
    signature = Signature.for_heads(artifact.labels, tensors=[TensorSpec(EMBEDDING, (width,))])
    (artifact.root / SIGNATURE_FILE).write_text(
        json.dumps(signature.document(), indent=1) + "\n", encoding="utf-8"
    )
    (artifact.root / TRITON_CONFIG_FILE).write_text(triton_config(artifact.name, signature), encoding="utf-8")
    load_artifact(model_dir)  # what was written must load
    return True


def best_cosines(songs: list[SongOutputs], centroids: ArtistCentroids) -> tuple[np.ndarray, np.ndarray]:
    """Each song's best cosine to an artist mean, and that artist's index."""
    means = unit_rows(centroids.means, centroids.centre)
    cosines = unit_rows(np.stack([s.embedding for s in songs]), centroids.centre) @ means.T
    return cosines.max(axis=1), cosines.argmax(axis=1)


def compute(
    model_dir: Path, cache_dir: Path, split_file: Path, *, unknown_manifest: Path | None = None
) -> ArtistCentroids:
    """The centroids of the model folder's artists, calibrated as the module docstring says."""
    artifact = load_artifact(model_dir)
    network = Network(artifact)
    task = artifact.components.gallery_task
    if task is None:
        raise ValueError(f"{artifact.root}: components.json names no gallery task for centroids")
    ids = [label.id for label in artifact.labels[task]]
    # its exposure songs, if any, are not used, nor songs without the task's label (a language-only one)
    parts = {k: labelled(v, task) for k, v in songs_by_split(cache_dir, split_file).items()}
    songs = [s for p in SPLITS for s in parts[p]]
    outputs = {
        s.song_id: network.song(np.load(mel_path(cache_dir, s.song_id))) for s in tqdm(songs, desc="songs")
    }
    train = np.stack([outputs[s.song_id].embedding for s in parts["train"]])
    artist = np.array([ids.index(s.labels[task]) for s in parts["train"]])
    missing = sorted(set(range(len(ids))) - set(artist))
    if missing:
        raise ValueError(f"{split_file}: no training song for artist(s) {[ids[k] for k in missing]}")
    draft = ArtistCentroids(
        centre=train.mean(axis=0),
        ids=ids,
        means=np.stack([train[artist == k].mean(axis=0) for k in range(len(ids))]),
        songs=[int((artist == k).sum()) for k in range(len(ids))],
        threshold=0.0,
    )
    val, _ = best_cosines([outputs[s.song_id] for s in parts["val"]], draft)
    threshold = round(val_threshold(val), 6)
    test, top = best_cosines([outputs[s.song_id] for s in parts["test"]], draft)
    truth = np.array([ids.index(s.labels[task]) for s in parts["test"]])
    calibration: dict[str, object] = {
        "train_songs": len(parts["train"]),
        "val_songs": len(parts["val"]),
        "val_false_rejects": VAL_FALSE_REJECTS,
        "test_songs": len(parts["test"]),
        "test_false_rejects": round(float((test < threshold).mean()), 4),
        "test_top1": round(float((top == truth).mean()), 4),
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    if unknown_manifest is not None:
        unknown, _ = best_cosines(
            [network.song_from_file(p) for p in manifest_paths(unknown_manifest)], draft
        )
        labels = np.r_[np.ones(len(test)), np.zeros(len(unknown))]
        calibration |= {
            "unknown_songs": f"{len(unknown)} ({unknown_manifest.name})",
            "unknown_false_accepts": round(float((unknown >= threshold).mean()), 4),
            "auroc": round(float(roc_auc_score(labels, np.r_[test, unknown])), 4),
        }
    return ArtistCentroids(draft.centre, ids, draft.means, draft.songs, threshold, calibration)


def command(model_dir: Path, cache_dir: Path, split_file: Path, unknown: Path | None) -> list[str]:
    """Compute first (the network's embedding is exposed in memory), so a refusal writes nothing."""
    centroids = compute(model_dir, cache_dir, split_file, unknown_manifest=unknown)
    lines = ["exposed the embedding output"] if expose_embedding(model_dir) else []
    artifact = write_centroids(model_dir, centroids)
    card = artifact.root / CARD_FILE
    if card.is_file():
        card.write_text(with_centroids(card.read_text(encoding="utf-8"), centroids), encoding="utf-8")
    return [*lines, f"centroids.json: threshold {centroids.threshold} ({centroids.calibration})"]
