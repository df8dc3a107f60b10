"""Benchmark "dplace": sung excerpts, the language from the society's glottocode."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from training.benchmarks import dplace
from training.catalog import load_catalog

SOCIETIES = "ID,Name,Glottocode\nS1,Spanish,stan1288\nS2,Woleaian,wole1240\n"
DATA = (
    "ID,Soc_ID,Var_ID,Value,Song_ID\n"
    "A,S1,CCMC1,Dance,NHS2-A\nB,S2,CCMC1,Lullaby,NHS2-B\nC,S2,CCMC1,Work,NHS2-C\n"
)


def _checkout(root: Path) -> Path:
    cldf = root / dplace.CLDF
    (cldf / "songs").mkdir(parents=True)
    (cldf / "societies.csv").write_text(SOCIETIES)
    (cldf / "data.csv").write_text(DATA)
    t = np.arange(22_050 * 4) / 22_050
    for song in ("NHS2-A", "NHS2-B"):
        sf.write(cldf / "songs" / f"{song}.mp3", 0.3 * np.sin(2 * np.pi * 330 * t), 22_050, format="MP3")
    (cldf / "songs" / "NHS2-C.mp3").write_bytes(b"not audio")  # undecodable: left out, named in the log
    return root


def test_excerpts_carry_an_iso_code_where_known_else_the_glottocode(tmp_path: Path) -> None:
    rows = dplace.excerpts(_checkout(tmp_path) / dplace.CLDF)
    assert [(r["song_id"], r["language"], r["song_type"]) for r in rows] == [
        ("NHS2-A", "es", "Dance"),
        ("NHS2-B", "wole1240", "Lullaby"),
        ("NHS2-C", "wole1240", "Work"),
    ]


def test_build_writes_one_song_per_decodable_excerpt(tmp_path: Path) -> None:
    manifest = dplace.build(cache_dir=tmp_path / "cache", jobs=1, source=_checkout(tmp_path / "repo"))
    rows = list(csv.DictReader(manifest.open()))
    assert [(r["group"], r["language"], r["glottocode"]) for r in rows] == [
        ("dplace:NHS2-A", "es", "stan1288"),
        ("dplace:NHS2-B", "wole1240", "wole1240"),
    ]
    assert all(3.9 < float(r["duration_s"]) < 4.2 for r in rows)
    assert {s.labels["artist"] for s in load_catalog(manifest)} == {""}
