"""songid exposure-split: half the outsiders by composer join the split, the other half is kept apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from training.catalog import load_catalog
from training.exposure import exposure_split
from training.split import write_split


def _outsiders(root: Path) -> Path:
    rows = [("a1.flac", "Ann"), ("a2.flac", "Ann"), ("b1.flac", "Bo"), ("c1.flac", ""), ("d1.flac", "Di")]
    path = root / "outsiders.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "artist", "language", "soundtrack"])
        w.writerows([(p, a, "zxx", "game") for p, a in rows])
    return path


def test_composers_go_whole_to_one_half(tmp_path: Path) -> None:
    outsiders = _outsiders(tmp_path)
    write_split(tmp_path / "split.json", {"known1": "train", "known2": "test"}, seed=3)
    sizes = exposure_split(tmp_path / "split.json", outsiders, tmp_path / "out.json", tmp_path / "held.csv")
    payload = json.loads((tmp_path / "out.json").read_text())
    exposed = {k for k, v in payload["assignment"].items() if v == "exposure"}
    held = [row["path"] for row in csv.DictReader((tmp_path / "held.csv").open())]
    by_path = {s.path.name: s.song_id for s in load_catalog(outsiders)}
    # composers in name order: Ann, Bo, Di, uncredited:game -> Ann and Di held out
    assert held == ["a1.flac", "a2.flac", "d1.flac"] and sizes == (2, 3)
    assert exposed == {by_path["b1.flac"], by_path["c1.flac"]}
    assert payload["seed"] == 3 and payload["counts"]["exposure"] == 2


def test_songs_already_in_the_split_are_refused(tmp_path: Path) -> None:
    outsiders = _outsiders(tmp_path)
    taken = load_catalog(outsiders)[2].song_id  # b1, which would be exposed
    write_split(tmp_path / "split.json", {taken: "train"})
    with pytest.raises(ValueError, match="already in"):
        exposure_split(tmp_path / "split.json", outsiders, tmp_path / "out.json", tmp_path / "held.csv")
