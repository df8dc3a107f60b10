"""``songid enrolment-study``: enrolling artists the network never saw, measured on gamemusic.

The models are the open-set study's (``songid openset-study``, paper recipe, seed 0): each fold was
trained without half the composers. Of those held-out composers, the ones with at least
``POOL + 1`` songs are enrolled: a seeded pool of ``POOL`` songs each, from which the first k = 1,
3 and 5 are the enrolment songs, and the rest are the queries (the same queries for every k). The
held-out composers with fewer songs are never enrolled: their songs measure false accepts.

Every song is compared with every artist as the service does (frontend/centroids.py): the cosine
of centred embeddings, trained artists by their training songs' mean, enrolled ones by their
enrolment songs' mean, one threshold set on the validation songs (10 % false rejects among trained
artists). Two embeddings: the CNN's (the exported ``embedding``) and the trivial baseline's (mean
and standard deviation of the log-mel bands and MFCCs of each segment, averaged over the song and
standardised on the training songs): the lower reference. The upper reference is the same network
trained WITH the enrolled composers (the known training songs plus their pools), answering the
queries closed-set.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from frontend.artifact import load_artifact
from frontend.audio import SEGMENT_FRAMES, segment
from frontend.centroids import unit_rows
from training.baseline import segment_features
from training.catalog import Song
from training.openset import Network, val_threshold
from training.prepare import mel_path, read_index
from training.run_folder import write_json_atomic
from training.split import SPLITS, read_split, write_split
from training.studies.openset import GAMEMUSIC
from training.studies.paths import StudyPaths
from training.studies.records import read_records

POOL = 5
KS = (1, 3, 5)
TARGET_RATIO = 0.8  # enrolled top-1 at k = 3 against the upper reference's


@dataclass(frozen=True)
class FoldSongs:
    fold: int
    train: list[Song]
    val: list[Song]
    test: list[Song]
    pools: dict[str, list[Song]]  # enrolled composer -> its POOL songs, in enrolment order
    queries: list[Song]  # the enrolled composers' other songs
    impostors: list[Song]  # songs of held-out composers never enrolled


def fold_songs(
    fold: int, held_out: list[str], split_file: Path, cache_dir: Path, *, seed: int = 0
) -> FoldSongs:
    assignment = read_split(split_file)
    songs = read_index(cache_dir)
    by_part = {p: [s for s in songs if assignment.get(s.song_id) == p] for p in SPLITS}
    rng = np.random.default_rng(seed)
    pools: dict[str, list[Song]] = {}
    queries: list[Song] = []
    impostors: list[Song] = []
    for composer in sorted(held_out):
        own = sorted((s for s in songs if s.labels["artist"] == composer), key=lambda s: s.song_id)
        if len(own) <= POOL:
            impostors += own
            continue
        order = rng.permutation(len(own))
        pools[composer] = [own[i] for i in order[:POOL]]
        queries += [own[i] for i in order[POOL:]]
    return FoldSongs(fold, by_part["train"], by_part["val"], by_part["test"], pools, queries, impostors)


def cnn_vectors(model_dir: Path, cache_dir: Path, songs: list[Song]) -> dict[str, np.ndarray]:
    network = Network(load_artifact(model_dir))
    return {
        s.song_id: network.song(np.load(mel_path(cache_dir, s.song_id))).embedding
        for s in tqdm(songs, desc="cnn")
    }


def baseline_vectors(cache_dir: Path, songs: list[Song]) -> dict[str, np.ndarray]:
    out = {}
    for s in tqdm(songs, desc="baseline"):
        segments = segment(np.load(mel_path(cache_dir, s.song_id)), hop_frames=SEGMENT_FRAMES)
        out[s.song_id] = segment_features(segments).mean(axis=0).astype(np.float64)
    return out


def _artist(song: Song) -> str:
    return song.labels["artist"]


def measure(data: FoldSongs, vectors: dict[str, np.ndarray], *, standardise: bool) -> dict[str, Any]:
    """Figures for every k (see the module docstring)."""
    train = np.stack([vectors[s.song_id] for s in data.train])
    centre = train.mean(axis=0)
    scale = train.std(axis=0) + 1e-9 if standardise else np.ones_like(centre)

    def units(songs: list[Song]) -> np.ndarray:
        return unit_rows(np.stack([vectors[s.song_id] for s in songs]) / scale, centre / scale)

    trained_ids = sorted({_artist(s) for s in data.train})
    trained = np.stack([train[[_artist(s) == a for s in data.train]].mean(axis=0) for a in trained_ids])
    trained_units = unit_rows(trained / scale, centre / scale)
    threshold = val_threshold((units(data.val) @ trained_units.T).max(axis=1))
    out: dict[str, Any] = {"threshold": threshold}
    for k in KS:
        enrolled_ids = sorted(data.pools)
        enrolled = np.stack(
            [np.stack([vectors[s.song_id] for s in data.pools[a][:k]]).mean(axis=0) for a in enrolled_ids]
        )
        gallery = np.concatenate([trained_units, unit_rows(enrolled / scale, centre / scale)])
        ids = trained_ids + enrolled_ids

        def answers(
            songs: list[Song], gallery: np.ndarray = gallery, ids: list[str] = ids
        ) -> tuple[list[str], np.ndarray]:
            cos = units(songs) @ gallery.T
            return [ids[i] for i in cos.argmax(axis=1)], cos.max(axis=1)

        q_ids, q_best = answers(data.queries)
        t_ids, t_best = answers(data.test)
        _, i_best = answers(data.impostors) if data.impostors else ([], np.zeros(0))
        out[f"k{k}"] = {
            "query_top1": float(np.mean([a == _artist(s) for a, s in zip(q_ids, data.queries, strict=True)])),
            "query_false_rejects": float((q_best < threshold).mean()),
            "query_accepted_right": float(
                np.mean(
                    [
                        a == _artist(s) and b >= threshold
                        for a, b, s in zip(q_ids, q_best, data.queries, strict=True)
                    ]
                )
            ),
            "known_test_top1": float(
                np.mean([a == _artist(s) for a, s in zip(t_ids, data.test, strict=True)])
            ),
            "known_test_false_rejects": float((t_best < threshold).mean()),
            "impostor_false_accepts": float((i_best >= threshold).mean()) if len(i_best) else float("nan"),
        }
    return out


def upper_reference(data: FoldSongs, cache_dir: Path, run_dir: Path) -> dict[str, Any]:
    """The network trained with the enrolled composers' pools; closed-set top-1 on the queries."""
    from training.export import export_run
    from training.studies.compare import run_variant  # lazy: TensorFlow

    assignment = {s.song_id: "train" for s in data.train + [s for p in data.pools.values() for s in p]}
    assignment |= {s.song_id: "val" for s in data.val} | {s.song_id: "test" for s in data.queries}
    split_file = run_dir.parent / f"{run_dir.name}.split.json"
    write_split(split_file, assignment, note="enrolment upper reference")
    config = replace(GAMEMUSIC.train, seed=0, notes={"study": "enrolment", "fold": data.fold})
    run_variant(cache_dir, split_file, run_dir, config)
    artifact = load_artifact(export_run(run_dir, run_dir / "export", name="upper"))
    network = Network(artifact)
    ids = [label.id for label in artifact.labels["artist"]]
    right = [
        ids[int(np.argmax(network.song(np.load(mel_path(cache_dir, s.song_id))).probs["artist"]))]
        == _artist(s)
        for s in data.queries
    ]
    return {"query_top1": float(np.mean(right))}


def study(paths: StudyPaths, out_dir: Path, *, folds: tuple[int, ...] = (0, 1)) -> list[dict[str, Any]]:
    """Every fold's record (kept in ``out_dir``; a rerun only reports)."""
    records = {(r["fold"], r["seed"]): r for r in read_records(paths.records / "gamemusic" / "paper")}
    cache_dir = paths.caches / "gamemusic"
    results = []
    for fold in folds:
        record_file = out_dir / f"fold{fold}.json"
        if record_file.is_file():
            results.append(json.loads(record_file.read_text(encoding="utf-8")))
            continue
        if (fold, 0) not in records:
            raise FileNotFoundError(
                f"run `songid openset-study` first: gamemusic/paper/fold{fold}-seed0 is missing"
            )
        run = paths.runs / "gamemusic" / "paper" / f"fold{fold}-seed0"
        data = fold_songs(fold, records[(fold, 0)]["held_out"], run / "split.json", cache_dir)
        everyone = data.train + data.val + data.test + data.queries + data.impostors
        everyone += [s for p in data.pools.values() for s in p]
        started = time.monotonic()
        result = {
            "fold": fold,
            "enrolled": {a: len(p) for a, p in data.pools.items()},
            "songs": {
                "queries": len(data.queries),
                "impostors": len(data.impostors),
                "known_test": len(data.test),
            },
            "cnn": measure(
                data, cnn_vectors(run / "export" / "study", cache_dir, everyone), standardise=False
            ),
            "baseline": measure(data, baseline_vectors(cache_dir, everyone), standardise=True),
            "upper": upper_reference(data, cache_dir, paths.runs.parent / "enrolment" / f"fold{fold}-upper"),
        }
        result["wall_s"] = round(time.monotonic() - started, 1)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(record_file, result)
        results.append(result)
    return results
