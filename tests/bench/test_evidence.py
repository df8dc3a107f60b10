"""python -m bench.evidence: the tables, and a non-zero exit when a real file has no evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench import evidence
from bench.evidence_corpus import synthetic_speech
from training.signals import synthetic_track


def write_manifest(folder: Path, files: dict[str, np.ndarray | Path]) -> Path:
    """A manifest in the benchmarks' layout (path relative to its folder) over ``files``."""
    (folder / "audio").mkdir(parents=True)
    rows = ["path,artist,language,group"]
    for name, audio in files.items():
        path = folder / "audio" / f"{name}.flac"
        if isinstance(audio, Path):
            path.write_bytes(audio.read_bytes())
        else:
            sf.write(path, audio, 16_000, format="FLAC", subtype="PCM_16")
        rows.append(f"audio/{name}.flac,someone,zxx,{name}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest


def test_real_music_and_speech_pass_and_the_tables_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "melody": synthetic_track(tmp_path / "melody.flac", seconds=35.0),
        "speech": synthetic_speech(12.0),
    }
    manifest = write_manifest(tmp_path / "songs", files)
    assert evidence.main([str(manifest), "--corpus-seconds", "5"]) == 0
    out = capsys.readouterr().out
    assert "| songs/manifest.csv | 2 | 0.8 | 0 | – |" in out
    assert "| synthetic no-evidence corpus | 43 |" in out
    assert "| songs/manifest.csv | 30 | 3 | 0 | 0.0 % | – |" in out  # only the song is 30 s long
    assert "- real audio: sustained sound at least" in out
    assert "## Machine" in out and "Failures" not in out


def test_a_real_file_without_evidence_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hiss = (0.05 * np.random.default_rng(0).standard_normal(10 * 16_000)).astype(np.float32)
    manifest = write_manifest(tmp_path / "odd", {"hiss": hiss})
    assert evidence.main([str(manifest), "--corpus-seconds", "5"]) == 1
    out = capsys.readouterr().out
    assert "## Failures" in out and "hiss.flac: judged no evidence: No evidence (stationary noise)" in out


def test_the_default_manifests_are_the_benchmarks_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "manifest.csv").write_text("path,artist,language,group\n")
    (tmp_path / "a" / "outsiders.csv").write_text("path,artist,language,group\n")
    monkeypatch.setattr(evidence, "BENCHMARKS", tmp_path)
    assert evidence.default_manifests() == [tmp_path / "a" / "manifest.csv", tmp_path / "a" / "outsiders.csv"]
