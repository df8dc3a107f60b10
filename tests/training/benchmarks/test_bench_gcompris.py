"""Benchmark "gcompris": read words per language, the speaker taken from the nearest README."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from tests.training.benchmarks.fakes import write_ogg
from training.benchmarks import gcompris
from training.benchmarks.build import build_benchmark
from training.benchmarks.repository import RepositoryError
from training.catalog import load_catalog


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())


def _checkout(root: Path) -> Path:
    for i in range(3):
        write_ogg(root / "fr" / "words" / f"w{i}.ogg", 25.0, freq=300 + 20 * i)
        write_ogg(root / "fr" / "colors" / f"c{i}.ogg", 25.0, freq=400 + 20 * i)
        write_ogg(root / "de" / "words" / f"w{i}.ogg", 25.0, freq=500 + 20 * i)
    (root / "fr" / "words" / "README").write_text("The voices comes from a recording of Zohra Coudoin.\n")
    (root / "fr" / "colors" / "README").write_text(
        "c0.ogg\t\tCopyright 2003 Jose Jorge / Released under GPL\n"
        "c1.ogg\t\tJose Jorge 2003 / GPL\nc2.ogg\t\tVoice : Marina Snaaijer / Licence : GPL\n"
    )
    write_ogg(root / "pt_BR" / "words" / "w0.ogg", 70.0, freq=700)  # the region is dropped: pt
    recording = write_ogg(root / "nb" / "misc" / "m.ogg", 70.0, freq=800)
    _copy(recording, root / "nn" / "misc" / "m.ogg")  # both written standards: one language, no
    copied = write_ogg(root / "de" / "misc" / "copied.ogg", 70.0, freq=900)
    _copy(copied, root / "fr" / "misc" / "copied.ogg")  # byte-identical under two languages: neither
    (root / "en" / "words").mkdir(parents=True)
    (root / "en" / "words" / "README").write_text("no recordings yet\n")
    return root


def test_speaker_names_come_from_credits_and_prose() -> None:
    assert gcompris.speaker_name("Copyright 2001 Martin Herweg / Release under GPL") == "martin herweg"
    assert gcompris.speaker_name("Public Domain") == ""
    assert gcompris.slug("Михаило Симић (Mihailo Simic)") == "mihailo-simic"
    per_file, whole = gcompris.readme_credits("Bulgarian sounds are made by Iassen Kertov <x at y>\n")
    assert (per_file, whole) == ({}, "iassen kertov")


def test_voices_follow_the_readmes_and_unattributed_folders_are_their_own(tmp_path: Path) -> None:
    found = gcompris.files_by_voice(_checkout(tmp_path))
    counts = {key: len(paths) for key, paths in found.items()}
    assert counts == {
        ("gcompris-de-words-unattributed", "de"): 3,
        ("gcompris-fr-jose-jorge", "fr"): 2,
        ("gcompris-fr-marina-snaaijer", "fr"): 1,
        ("gcompris-fr-zohra-coudoin", "fr"): 3,
        ("gcompris-no-misc-unattributed", "no"): 2,  # one recording twice; the scan keeps one
        ("gcompris-pt-words-unattributed", "pt"): 1,
    }


def test_build_from_a_local_checkout_writes_language_only_songs(tmp_path: Path) -> None:
    manifest = gcompris.build(
        cache_dir=tmp_path / "cache", jobs=1, source=_checkout(tmp_path / "repo"), target_s=60.0
    )
    rows = list(csv.DictReader(manifest.open()))
    assert {r["language"] for r in rows} == {"de", "fr", "no", "pt"}  # under 60 s of a voice: left out
    assert {r["voice"] for r in rows if r["language"] == "no"} == {"gcompris-no-misc-unattributed"}
    assert [float(r["duration_s"]) < 71 for r in rows if r["language"] == "no"] == [True]  # no twin
    assert {s.labels["artist"] for s in load_catalog(manifest)} == {""}


def test_a_source_without_a_checkout_is_cloned_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    repo = _checkout(tmp_path / "repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git[:5], "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "voices"], check=True)
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    manifest = build_benchmark("gcompris", cache_dir=tmp_path / "cache", jobs=1, source=str(bare))
    assert (tmp_path / "cache" / "external" / "GCompris-voices" / "fr" / "words").is_dir()
    assert manifest.is_file()
    with pytest.raises(RepositoryError, match=r"git clone .*/repo/fr failed"):
        gcompris.build(cache_dir=tmp_path / "other", source=tmp_path / "repo" / "fr")
    with pytest.raises(ValueError, match="takes no source"):
        build_benchmark("tuxpaint", cache_dir=tmp_path / "cache", source=str(bare))
