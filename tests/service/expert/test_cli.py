"""songid-expert's commands: their output and their error messages (exit status 1, reason on stderr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.expert.cli import main
from service.expert.identity import PINNED


def test_verify_of_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "absent")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("songid-expert: error: ")
        and "absent: not a folder" in err
        and "songid-expert fetch" in err
    )


def test_fetch_from_files_that_are_not_the_expert_names_the_file_and_both_hashes(
    tmp_path: Path, expert_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fetch", "--into", str(tmp_path / "expert"), "--from", str(expert_files)]) == 1
    err = capsys.readouterr().err
    assert "model.bin has SHA-256" in err and f"expected {PINNED['model.bin']}" in err and "refused" in err
    assert not (tmp_path / "expert").exists()


def test_fetch_from_a_folder_without_the_expert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--into", str(tmp_path / "expert"), "--from", str(tmp_path)]) == 1
    assert "holds neither the expert's files" in capsys.readouterr().err


def test_fetch_into_a_folder_that_is_something_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["fetch", "--into", str(tmp_path), "--no-hub", "--from", str(tmp_path)]) == 1
    assert "exists but is not a verified expert folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_non_positive_hub_timeout_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--into", str(tmp_path / "x"), "--hub-timeout", "0"]) == 1
    assert "--hub-timeout must be > 0, got 0.0" in capsys.readouterr().err


def test_fetch_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fetch"])
    assert stopped.value.code == 2 and "--into" in capsys.readouterr().err


def test_labels_of_a_tampered_folder_are_refused(
    tmp_path: Path, expert_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["labels", str(expert_files)]) == 1
    assert "model.bin has SHA-256" in capsys.readouterr().err
