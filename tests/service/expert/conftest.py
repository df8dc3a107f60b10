"""A tiny stand-in for the expert: a few small files, their hashes as the pins, and wheels holding them."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import pytest

from service.expert.identity import Distribution

REPO = Path(__file__).resolve().parents[3]
#: Where the real, verified expert is looked for by the tests that run it (git-ignored): where
#: `songid-expert fetch --model models` (and scripts/serve) put it.
REAL_EXPERT = REPO / "models" / "songid-multitask" / "expert"

PART1 = b"first half of the weights "
PART2 = b"and the second half"
SMALL = {
    "config.json": b'{"lang_ids": []}',
    "tokenizer.json": b'{"added_tokens": []}',
    "vocabulary.txt": b"a\nb\n",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def pins() -> dict[str, str]:
    """The tiny expert's pins: model.bin is the two parts joined."""
    return {"model.bin": sha256(PART1 + PART2), **{name: sha256(data) for name, data in SMALL.items()}}


@pytest.fixture
def expert_files(tmp_path: Path) -> Path:
    """A folder with the tiny expert's files (the pinned bytes)."""
    folder = tmp_path / "source"
    folder.mkdir()
    (folder / "model.bin").write_bytes(PART1 + PART2)
    for name, data in SMALL.items():
        (folder / name).write_bytes(data)
    return folder


def _wheel(folder: Path, name: str, members: dict[str, bytes]) -> Distribution:
    """Write a wheel holding ``members`` and return its pinned distribution."""
    unpinned = Distribution(name, "1.0.0", "", {m: m.rsplit("/", 1)[1] for m in members})
    path = folder / unpinned.wheel_name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return dataclasses.replace(unpinned, wheel_sha256=sha256(path.read_bytes()))


@pytest.fixture
def wheels(tmp_path: Path) -> tuple[Path, tuple[Distribution, Distribution]]:
    """A folder with two tiny wheels laid out as the registry's, and their pinned distributions."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    first = _wheel(
        folder,
        "tiny-part1",
        {"p1/data/model.bin.part1": PART1, **{f"p1/data/{n}": d for n, d in SMALL.items()}},
    )
    second = _wheel(folder, "tiny-part2", {"p2/data/model.bin.part2": PART2})
    return folder, (first, second)
