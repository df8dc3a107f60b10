"""``songid benchmark`` and the public build function's argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.benchmarks import BENCHMARKS, build_benchmark
from training.cli.main import build_parser, main


def test_help_lists_the_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["benchmark", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "gamemusic" in out and "voices" in out and "--jobs" in out


def test_defaults() -> None:
    args = build_parser().parse_args(["benchmark", "voices"])
    assert (args.names, args.cache) == (["voices"], Path("data/benchmarks"))


@pytest.mark.parametrize("argv", [["benchmark", "nope"], ["benchmark"]])
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_build_benchmark_checks_its_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert set(BENCHMARKS) == {
        "gamemusic",
        "composers",
        "voices",
        "tuxpaint",
        "fillets",
        "gcompris",
        "dplace",
    }
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        build_benchmark("nope", cache_dir=tmp_path)
    assert main(["benchmark", "voices", "--jobs", "0", "--cache", str(tmp_path)]) == 2
    assert "jobs must be >= 1, got 0" in capsys.readouterr().err


def test_missing_tool_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["benchmark", "voices", "--cache", str(tmp_path / "c")]) == 2
    assert "'apt-get' was not found" in capsys.readouterr().err
