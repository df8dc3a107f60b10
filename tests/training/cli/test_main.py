"""``songid``'s one command line: every subcommand registered is the one its docstring lists."""

from __future__ import annotations

import argparse
import re

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
