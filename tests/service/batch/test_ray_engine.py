"""The Ray Data engine on a local Ray: the same rows as the local pool, resumable, Parquet only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.batch.job import tag_catalog
from service.batch.sinks import read_rows
from service.batch.tagging import TagOptions
from tests.service.batch.conftest import BROKEN, SONGS
from tests.service.samples import encode

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'songid[ray]'")
pytest.importorskip("ray.data", reason="Ray Data is an optional extra: pip install 'songid[ray]'")

pytestmark = pytest.mark.slow  # starts a local Ray (a few processes, about 10 s)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


def by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["path"]: row for row in rows}


def test_ray_and_the_local_pool_write_identical_rows(
    local_ray: Any, catalog: Path, options: TagOptions, tmp_path: Path
) -> None:
    on_ray = tmp_path / "ray.parquet"
    report = tag_catalog(catalog, on_ray, options, engine="ray", workers=2, files_per_batch=2, progress=False)
    assert (report.listed, report.skipped, report.tagged, report.failed) == (5, 0, 5, 1)
    local = tmp_path / "local.parquet"
    tag_catalog(catalog, local, options, engine="local", workers=2, intra_op_threads=1, progress=False)

    ray_rows, local_rows = by_path(read_rows(on_ray)), by_path(read_rows(local))
    assert set(ray_rows) == {*SONGS, BROKEN}
    assert ray_rows == local_rows  # bit for bit: same code, same thread count per session
    assert ray_rows[BROKEN]["error"].startswith("unsupported_media_type:")


def test_ray_resumes_into_the_same_folder(
    local_ray: Any, catalog: Path, options: TagOptions, tmp_path: Path
) -> None:
    out = tmp_path / "tags.parquet"
    tag_catalog(catalog, out, options, engine="ray", workers=1, progress=False)
    again = tag_catalog(catalog, out, options, engine="ray", workers=1, progress=False)
    assert (again.skipped, again.tagged) == (5, 0)
    (catalog / "late.flac").write_bytes(encode("flac", seconds=3.5))
    late = tag_catalog(catalog, out, options, engine="ray", workers=1, progress=False)
    assert (late.skipped, late.tagged, late.failed) == (5, 1, 0)
    paths = [row["path"] for row in read_rows(out)]
    assert sorted(paths) == sorted([*SONGS, BROKEN, "late.flac"])
