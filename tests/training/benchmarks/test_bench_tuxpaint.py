"""Benchmark "tuxpaint": spoken stamp descriptions grouped by language, artist left unlabelled."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.training.benchmarks.fakes import write_ogg
from training.benchmarks import tuxpaint
from training.catalog import load_catalog


def _package(root: Path) -> Path:
    stamps = root / tuxpaint.STAMPS_DIR
    for i in range(4):
        write_ogg(stamps / "animals" / f"cat{i}_desc_ro.ogg", 20.0, freq=300 + 20 * i)
        write_ogg(stamps / "animals" / f"cat{i}_desc_fr.ogg", 20.0, freq=500 + 20 * i)
    write_ogg(stamps / "animals" / "cat0_desc_nl.ogg", 5.0)  # too little of this language
    write_ogg(stamps / "animals" / "cat0_desc_pt_BR.ogg", 30.0)  # a variant code: skipped
    write_ogg(stamps / "animals" / "cat0.ogg", 2.0)  # the stamp's sound, not a description
    return root


def test_descriptions_are_found_per_two_letter_language(tmp_path: Path) -> None:
    found = tuxpaint.descriptions_by_language(_package(tmp_path) / tuxpaint.STAMPS_DIR)
    assert sorted(found) == ["fr", "nl", "ro"] and [p.name for p in found["ro"]][:2] == [
        "cat0_desc_ro.ogg",
        "cat1_desc_ro.ogg",
    ]


def test_build_writes_language_only_songs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _package(tmp_path / "extract")
    monkeypatch.setattr(tuxpaint, "fetch_packages", lambda packages, *, cache_dir: {tuxpaint.PACKAGE: root})
    manifest = tuxpaint.build(cache_dir=tmp_path / "cache", jobs=1, target_s=40.0, gap_s=0.3)
    rows = list(csv.DictReader(manifest.open()))
    assert sorted({(r["language"], r["voice"], r["artist"]) for r in rows}) == [
        ("fr", "tuxpaint-fr", ""),
        ("ro", "tuxpaint-ro", ""),
    ]
    assert len(rows) == 4  # two 40 s songs a language
    songs = load_catalog(manifest)  # a partial label: language without artist
    assert {s.labels["artist"] for s in songs} == {""}
