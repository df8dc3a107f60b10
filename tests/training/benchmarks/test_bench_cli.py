"""The command line and the public build function's argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.benchmarks import BENCHMARKS, build_benchmark
from training.benchmarks.__main__ import main, parser


def test_help_lists_the_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["build", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "gamemusic" in out and "voices" in out and "all" in out and "--jobs" in out


def test_defaults() -> None:
    args = parser().parse_args(["build", "voices"])
    assert (args.name, args.cache, args.jobs) == ("voices", Path("data/benchmarks"), 2)


@pytest.mark.parametrize("argv", [["build", "nope"], ["build", "voices", "--jobs", "0"], ["build"], []])
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2


def test_build_benchmark_checks_its_arguments(tmp_path: Path) -> None:
    assert set(BENCHMARKS) == {"gamemusic", "voices"}
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        build_benchmark("nope", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="jobs must be >= 1, got 0"):
        build_benchmark("voices", cache_dir=tmp_path, jobs=0)


def test_missing_tool_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["build", "voices", "--cache", str(tmp_path / "c")]) == 2
    assert "'apt-get' was not found" in capsys.readouterr().err
