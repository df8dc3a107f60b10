"""Benchmark "fillets": acted dialogue grouped by language and speaking role, artist unlabelled."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.training.benchmarks.fakes import write_ogg
from training.benchmarks import fillets


def _packages(root: Path) -> dict[str, Path]:
    roots = {}
    for package, language in fillets.PACKAGES.items():
        sound = root / package / fillets.SOUND_DIR
        for i in range(3):
            write_ogg(sound / "city" / language / f"vit-m-line{i}.ogg", 25.0, freq=300 + 10 * i)
            write_ogg(sound / "city" / language / f"vit-v-line{i}.ogg", 25.0, freq=600 + 10 * i)
        write_ogg(sound / "city" / language / f"vit-pap-{language}.ogg", 4.0)  # a minor role, too short
        write_ogg(sound / "share" / "sp-splash.ogg", 1.0)  # a sound effect, in no language folder
        roots[package] = root / package
    return roots


def test_roles_name_the_voices() -> None:
    assert fillets.voice_of(Path("vit-m-hlava.ogg"), "cs") == "fillets-cs-small-fish"
    assert fillets.voice_of(Path("vit-v-klid.ogg"), "nl") == "fillets-nl-big-fish"
    assert fillets.voice_of(Path("vit-hs-klid1.ogg"), "cs") == "fillets-cs-others"
    assert fillets.voice_of(Path("intro.ogg"), "en") == "fillets-en-others"


def test_build_writes_language_only_songs_per_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roots = _packages(tmp_path / "extract")
    monkeypatch.setattr(fillets, "fetch_packages", lambda packages, *, cache_dir: roots)
    manifest = fillets.build(cache_dir=tmp_path / "cache", jobs=1, target_s=70.0, gap_s=0.3)
    rows = list(csv.DictReader(manifest.open()))
    voices = sorted({(r["voice"], r["language"], r["artist"]) for r in rows})
    assert voices == [
        (f"fillets-{lang}-{role}", lang, "")
        for lang in ("cs", "en", "nl")
        for role in ("big-fish", "small-fish")
    ]
    assert all(r["n_prompts"] == "3" for r in rows)  # the short minor role is left out
