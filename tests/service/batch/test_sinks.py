"""Outputs: JSON Lines appended row by row, Parquet as whole part files; what is already done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from service.batch.sinks import (
    JsonlSink,
    ParquetSink,
    arrow_schema,
    done_keys,
    open_sink,
    output_format,
    read_rows,
)
from service.batch.tagging import columns

TASKS = ["artist", "language"]


def row(key: str, *, error: str | None = None, name: str = "m", version: int = 1) -> dict[str, Any]:
    ok = error is None
    return {
        "path": key,
        "duration_s": 7.0 if ok else None,
        "n_segments": 2 if ok else None,
        "artist_labels": ["a", "b"] if ok else [],
        "artist_probabilities": [0.75, 0.25] if ok else [],
        "artist_status": "unknown" if ok else None,
        "artist_label": None,
        "artist_score": 0.75 if ok else None,
        "artist_source": None,
        "language_labels": ["en"] if ok else [],
        "language_probabilities": [1.0] if ok else [],
        "language_status": "known" if ok else None,
        "language_label": "en" if ok else None,
        "language_score": 1.0 if ok else None,
        "language_source": "trained" if ok else None,
        "model_name": name,
        "model_version": version,
        "error": error,
    }


@pytest.mark.parametrize(
    ("name", "fmt"), [("t.jsonl", "jsonl"), ("t.NDJSON", "jsonl"), ("t.parquet", "parquet")]
)
def test_format_follows_the_extension(name: str, fmt: str) -> None:
    assert output_format(name) == fmt


def test_other_extensions_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match=r"must end in .jsonl, .ndjson, .parquet, got '.csv'"):
        output_format("tags.csv")
    with pytest.raises(ValueError, match="got 'no extension'"):
        output_format("tags")


def test_schema_has_every_row_column_in_order() -> None:
    assert arrow_schema(TASKS).names == columns(TASKS)


def test_jsonl_appends_and_cuts_a_line_torn_by_an_interruption(tmp_path: Path) -> None:
    out = tmp_path / "tags.jsonl"
    with JsonlSink(out) as sink:
        sink.write(row("a.wav"))
        sink.write(row("b.wav", error="unreadable: gone"))
    with out.open("a", encoding="utf-8") as f:
        f.write('{"path": "c.wav", "dura')  # the job was killed mid-line
    assert done_keys(out, model_name="m", model_version=1) == {"a.wav", "b.wav"}
    with open_sink(out, TASKS) as sink:
        sink.write(row("c.wav"))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["path"] for line in lines] == ["a.wav", "b.wav", "c.wav"]
    assert read_rows(out) == [row("a.wav"), row("b.wav", error="unreadable: gone"), row("c.wav")]


def test_parquet_writes_whole_parts_in_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "tags.parquet"
    with ParquetSink(out, TASKS, rows_per_part=2) as sink:
        for key in ("a", "b", "c", "d", "e"):
            sink.write(row(f"{key}.wav", error="x: y" if key == "c" else None))
        assert sink.parts_written == 2  # the fifth row is still buffered
    parts = sorted(out.iterdir())
    assert len(parts) == 3 and all(p.name.startswith("part-") and p.suffix == ".parquet" for p in parts)
    table = pq.read_table(out)
    assert table.schema.equals(arrow_schema(TASKS), check_metadata=False)
    assert sorted(r["path"] for r in read_rows(out)) == ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav"]
    assert {r["path"]: r for r in read_rows(out)}["c.wav"] == row("c.wav", error="x: y")
    assert done_keys(out, model_name="m", model_version=1) == {"a.wav", "b.wav", "c.wav", "d.wav", "e.wav"}


def test_parquet_ignores_unfinished_parts_and_names_a_damaged_one(tmp_path: Path) -> None:
    out = tmp_path / "tags.parquet"
    with ParquetSink(out, TASKS) as sink:
        sink.write(row("a.wav"))
    (out / ".part-1-x.parquet.tmp").write_bytes(b"half a file")
    assert done_keys(out, model_name="m", model_version=1) == {"a.wav"}
    (out / "part-2-y.parquet").write_bytes(b"PAR1 damaged")
    with pytest.raises(ValueError, match=r"part-2-y.parquet: not a readable part file .* delete it"):
        done_keys(out, model_name="m", model_version=1)


def test_an_output_of_another_model_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "tags.jsonl"
    with JsonlSink(out) as sink:
        sink.write(row("a.wav", name="old", version=3))
    with pytest.raises(ValueError, match="holds rows of old v3, not m v1; choose another output"):
        done_keys(out, model_name="m", model_version=1)


def test_a_missing_output_has_nothing_done_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    assert done_keys(tmp_path / "new.jsonl", model_name="m", model_version=1) == set()
    assert done_keys(tmp_path / "new.parquet", model_name="m", model_version=1) == set()
    (tmp_path / "other.jsonl").write_text('{"hello": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"other\.jsonl: not a songid-tag output"):
        done_keys(tmp_path / "other.jsonl", model_name="m", model_version=1)


def test_a_parquet_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.parquet").write_bytes(b"x")
    with pytest.raises(ValueError, match="a Parquet output is a folder of part files"):
        ParquetSink(tmp_path / "t.parquet", TASKS)
