"""``songid-tag``: arguments, exit status and the summary line."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.batch.cli import main
from service.batch.sinks import read_rows


def test_tags_a_folder_and_prints_a_summary(
    catalog: Path, model_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tags.jsonl"
    args = [str(catalog), "-o", str(out), "--model", str(model_repo), "--provider", "cpu"]
    code = main([*args, "--top-k", "2", "--workers", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "5 files: 0 already done, 5 tagged (1 errors)" in captured.out
    assert "with songid-test v1 -> " in captured.out
    rows = read_rows(out)
    assert len(rows) == 5 and all(len(row["artist_labels"]) in (0, 2) for row in rows)


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (
            ["--model", "{tmp}/nowhere"],
            1,
            "cannot load the model: {tmp}/nowhere: model folder does not exist",
        ),
        (["--engine", "ray"], 2, "the ray engine writes Parquet"),
        (["--ray-address", "auto"], 2, "--ray-address and --gpus-per-actor need --engine ray"),
        (["--top-k", "101"], 2, "top_k must be between 1 and 100, got 101"),
        (["--max-duration", "0"], 2, "max_duration_s must be > 0, got 0.0"),
    ],
)
def test_errors_name_the_problem_and_set_the_exit_status(
    catalog: Path,
    model_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    args = [str(catalog), "-o", str(tmp_path / "t.jsonl"), "--model", str(model_repo), "--no-progress"]
    assert main(args + [arg.format(tmp=tmp_path) for arg in extra]) == code
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


def test_bad_input_and_output_are_refused(
    model_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "nothing"), "-o", str(tmp_path / "t.jsonl"), "--model", str(model_repo)]) == 2
    assert "expected a folder of audio files or a .csv manifest" in capsys.readouterr().err
    assert main([str(tmp_path), "-o", str(tmp_path / "t.csv"), "--model", str(model_repo)]) == 2
    assert "output must end in .jsonl, .ndjson, .parquet" in capsys.readouterr().err


def test_counts_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["music", "-o", "t.jsonl", "--workers", "0"])
    assert exit_info.value.code == 2
    assert "--workers: must be >= 1, got 0" in capsys.readouterr().err
