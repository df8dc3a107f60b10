"""The local engine end to end: a process pool tags a catalog, errors become rows, runs resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from service.batch.job import tag_catalog
from service.batch.local import threads_per_worker
from service.batch.sinks import read_rows
from service.batch.sources import list_inputs
from service.batch.tagging import Tagger, TagOptions
from tests.service.batch.conftest import BROKEN, SONGS
from tests.service.samples import encode


def by_path(rows: list[dict]) -> dict[str, dict]:
    return {row["path"]: row for row in rows}


def expected_rows(catalog: Path, options: TagOptions) -> dict[str, dict]:
    """What one in-process tagger writes for every file of the catalog, with a worker's one thread."""
    tagger = Tagger(options, intra_op_threads=1)
    with threadpool_limits(limits=1):
        return by_path([tagger.tag(item) for item in list_inputs(catalog)])


def test_local_pool_tags_every_file_and_resumes(catalog: Path, options: TagOptions, tmp_path: Path) -> None:
    out = tmp_path / "out" / "tags.jsonl"
    report = tag_catalog(catalog, out, options, workers=2, intra_op_threads=1, progress=False)
    assert (report.listed, report.skipped, report.tagged, report.failed) == (5, 0, 5, 1)
    assert (report.model_name, report.model_version) == ("songid-test", 1)
    rows = by_path(read_rows(out))
    assert rows == expected_rows(catalog, options)  # the workers answer as the model in this process
    assert set(rows) == {*SONGS, BROKEN}
    assert rows[BROKEN]["error"].startswith("unsupported_media_type: cannot decode the file as audio")
    assert all(rows[key]["error"] is None and rows[key]["n_segments"] >= 1 for key in SONGS)

    again = tag_catalog(catalog, out, options, workers=2, progress=False)
    assert (again.skipped, again.tagged) == (5, 0)
    (catalog / "late.wav").write_bytes(encode("wav", seconds=3.5))
    late = tag_catalog(catalog, out, options, workers=2, progress=False)
    assert (late.listed, late.skipped, late.tagged, late.failed) == (6, 5, 1, 0)
    assert [row["path"] for row in read_rows(out)].count("late.wav") == 1


def test_parquet_parts_hold_the_same_rows_and_a_manifest_works(
    catalog: Path, options: TagOptions, tmp_path: Path
) -> None:
    manifest = tmp_path / "catalog.csv"
    keys = ["en/ann/one.wav", BROKEN, "missing.wav"]
    manifest.write_text("path,artist\n" + "".join(f"music/{key},x\n" for key in keys), encoding="utf-8")
    out = tmp_path / "tags.parquet"
    report = tag_catalog(
        manifest, out, options, workers=1, intra_op_threads=1, rows_per_part=2, progress=False
    )
    assert (report.tagged, report.failed) == (3, 2)
    assert len(list(out.glob("part-*.parquet"))) == 2
    rows = by_path(read_rows(out))
    full = expected_rows(catalog, options)
    assert rows["music/en/ann/one.wav"] == {**full["en/ann/one.wav"], "path": "music/en/ann/one.wav"}
    assert rows["music/missing.wav"]["error"].startswith("unreadable: [Errno 2] No such file or directory")


def test_an_output_of_another_model_version_is_not_mixed(
    catalog: Path, options: TagOptions, model_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tags.jsonl"
    out.write_text(
        '{"path": "x.wav", "model_name": "songid-test", "model_version": 7, "error": null}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="holds rows of songid-test v7, not songid-test v1"):
        tag_catalog(catalog, out, options, workers=1, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "spark"}, "engine must be one of"),
        ({"workers": 0}, "workers must be >= 1, got 0"),
        ({"intra_op_threads": 0}, "intra_op_threads must be >= 1, got 0"),
    ],
)
def test_bad_job_arguments_are_refused(
    catalog: Path, options: TagOptions, tmp_path: Path, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        tag_catalog(catalog, tmp_path / "t.jsonl", options, **kwargs)


def test_the_ray_engine_writes_only_parquet(catalog: Path, options: TagOptions, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the ray engine writes Parquet"):
        tag_catalog(catalog, tmp_path / "t.jsonl", options, engine="ray")


def test_cores_are_divided_between_workers() -> None:
    assert threads_per_worker(1, cores=8) == 8
    assert threads_per_worker(3, cores=8) == 2
    assert threads_per_worker(16, cores=8) == 1
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        threads_per_worker(0, cores=8)


def test_a_copied_catalog_resumes_under_the_same_keys(
    catalog: Path, options: TagOptions, tmp_path: Path
) -> None:
    """Keys are relative to the input folder, so a moved catalog is not tagged again."""
    out = tmp_path / "tags.jsonl"
    out.write_text(
        "".join(
            f'{{"path": "{key}", "model_name": "songid-test", "model_version": 1, "error": null}}\n'
            for key in [*SONGS, BROKEN]
        ),
        encoding="utf-8",
    )
    moved = shutil.copytree(catalog, tmp_path / "moved")
    report = tag_catalog(moved, out, options, progress=False)
    assert (report.skipped, report.tagged) == (5, 0)


def test_a_worker_that_dies_stops_the_job_with_a_message(catalog: Path, tmp_path: Path) -> None:
    """Here the workers cannot load the model (the job's own check is bypassed)."""
    from service.batch.local import tag_locally
    from service.batch.sinks import JsonlSink

    broken = TagOptions(model_dir=str(tmp_path / "gone"), provider="cpu")
    with JsonlSink(tmp_path / "t.jsonl") as sink, pytest.raises(RuntimeError, match="a worker process died"):
        tag_locally(list_inputs(catalog), sink, broken, workers=1, progress=False)
