"""``songid``'s one command line: every subcommand registered is the one its docstring lists."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest

from training.cli import main as cli


def _registered() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_the_docstring_lists_every_subcommand_and_only_those() -> None:
    listed = set(re.findall(r"^    ``([a-z-]+)``", cli.__doc__ or "", flags=re.M))
    assert listed == _registered()
    assert len(listed) == 19


def test_help_shows_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in _registered())


def test_study_commands_share_one_set_of_folder_flags() -> None:
    parser = cli.build_parser()
    for command, runs in (("openset-study", "data/runs/openset"), ("language-study", "data/runs/language")):
        args = parser.parse_args([command])
        assert (str(args.runs), str(args.benchmarks), str(args.caches)) == (
            runs,
            "data/benchmarks",
            "data/cache",
        )


def test_expert_calibrate_without_an_expert_names_it_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundled = Path(__file__).resolve().parents[3] / "models" / "songid-multitask"
    model = Path(shutil.copytree(bundled, tmp_path / "model", ignore=shutil.ignore_patterns("expert")))
    before = (model / "components.json").read_bytes()
    argv = ["expert-calibrate", "--model", str(model), "--expert", str(tmp_path / "none")]
    code = cli.main([*argv, "--cache", str(tmp_path), "--split", str(tmp_path / "split.json")])
    assert code == 2
    assert f"{tmp_path / 'none'}: not a folder" in capsys.readouterr().err
    assert (model / "components.json").read_bytes() == before


def test_language_expert_study_without_benchmarks_says_what_to_build_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "language.md"
    argv = ["language-expert-study", "--expert", str(tmp_path / "none"), "--benchmarks", str(tmp_path / "b")]
    code = cli.main([*argv, "--out-records", str(tmp_path / "records"), "--out", str(out)])
    assert code == 2
    assert "build the benchmarks first" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "records").exists()
