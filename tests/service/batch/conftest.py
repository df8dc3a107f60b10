"""A small catalog on disk: real encoded songs in several formats, a broken file, a non-audio file."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.batch.tagging import TagOptions
from tests.service.samples import encode

#: key -> (format, seconds, frequency); keys are paths relative to the catalog folder
SONGS = {
    "en/ann/one.wav": ("wav", 7.0, 300.0),
    "en/ann/two.FLAC": ("flac", 4.0, 500.0),
    "hi/bo/three.mp3": ("mp3", 9.5, 700.0),
    "hi/bo/deep/four.ogg": ("ogg", 3.5, 900.0),
}
BROKEN = "hi/broken.mp3"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """``<tmp>/music/``: :data:`SONGS`, one undecodable ``.mp3`` and a ``notes.txt`` to ignore."""
    root = tmp_path / "music"
    for key, (fmt, seconds, freq) in SONGS.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(fmt, seconds=seconds, freq=freq))
    (root / BROKEN).write_bytes(b"this is not audio at all " * 40)
    (root / "notes.txt").write_text("not a song", encoding="utf-8")
    return root


@pytest.fixture
def options(model_repo: Path) -> TagOptions:
    return TagOptions(model_dir=str(model_repo), provider="cpu", top_k=3)
