"""Where rows go: JSON Lines or Parquet, chosen by the output's extension, and resumable.

- ``*.jsonl`` (or ``*.ndjson``): one file, one JSON object per line, appended to and
  flushed row by row. A line torn by an interrupted job is cut off when the file is
  reopened.
- ``*.parquet``: a *folder* of part files (``part-<time>-<id>.parquet``), as Spark and
  Ray write them; each part is written to a temporary name and renamed when complete,
  so an interrupted job leaves only whole parts behind (rows not yet in a part are
  tagged again). Read it whole with ``pyarrow.parquet.read_table(folder)`` or
  ``pandas.read_parquet(folder)``.

Resuming: :func:`done_keys` lists the paths already in an output, and the engines skip
them. An output written by another model or version is refused rather than mixed.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from service.batch.tagging import Row

if TYPE_CHECKING:
    import pyarrow as pa

OutputFormat = Literal["jsonl", "parquet"]
SUFFIXES: Final[dict[str, OutputFormat]] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PART_PREFIX: Final = "part-"


def output_format(path: Path | str) -> OutputFormat:
    """``jsonl`` or ``parquet`` from the output's extension.

    Raises:
        ValueError: any other extension.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: output must end in {', '.join(SUFFIXES)}, got {suffix or 'no extension'!r}"
        )
    return SUFFIXES[suffix]


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise RuntimeError("Parquet output needs pyarrow: pip install 'songid[serve,tag]'") from e
    return pa, pq


def arrow_schema(tasks: list[str]) -> pa.Schema:
    """The Parquet schema of a row (see :mod:`service.batch.tagging`)."""
    pa, _ = _pyarrow()
    per_task = []
    for task in tasks:
        per_task += [
            pa.field(f"{task}_labels", pa.list_(pa.string())),
            pa.field(f"{task}_probabilities", pa.list_(pa.float64())),
            pa.field(f"{task}_status", pa.string()),
            pa.field(f"{task}_label", pa.string()),
            pa.field(f"{task}_score", pa.float64()),
            pa.field(f"{task}_source", pa.string()),
        ]
    return pa.schema(
        [
            pa.field("path", pa.string(), nullable=False),
            pa.field("duration_s", pa.float64()),
            pa.field("n_segments", pa.int64()),
            *per_task,
            pa.field("model_name", pa.string()),
            pa.field("model_version", pa.int64()),
            pa.field("error", pa.string()),
        ]
    )


def rows_to_table(rows: list[Row], tasks: list[str]) -> pa.Table:
    """Rows as an Arrow table with :func:`arrow_schema`."""
    pa, _ = _pyarrow()
    return pa.Table.from_pylist(rows, schema=arrow_schema(tasks))


def part_files(folder: Path) -> list[Path]:
    """The complete Parquet files of an output folder (temporary parts excluded)."""
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def read_rows(output: Path | str) -> list[Row]:
    """Every row of an output, in file order (for tests, benchmarks and inspection)."""
    output = Path(output)
    if output_format(output) == "jsonl":
        if not output.is_file():
            return []
        lines = output.read_text(encoding="utf-8").split("\n")
        return [json.loads(line) for line in lines[:-1] if line.strip()]  # the last piece may be torn
    _, pq = _pyarrow()
    rows: list[Row] = []
    for part in part_files(output):
        rows += pq.read_table(part).to_pylist()
    return rows


def _done_models(output: Path) -> dict[str, tuple[str, int]]:
    if output_format(output) == "jsonl":
        return {row["path"]: (row["model_name"], row["model_version"]) for row in read_rows(output)}
    _, pq = _pyarrow()
    done: dict[str, tuple[str, int]] = {}
    for part in part_files(output):
        try:
            table = pq.read_table(part, columns=["path", "model_name", "model_version"])
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise ValueError(f"{part}: not a readable part file ({e}); delete it and run again") from e
        for key, name, version in zip(*(table[c].to_pylist() for c in table.column_names), strict=True):
            done[key] = (name, version)
    return done


def done_keys(output: Path | str, *, model_name: str, model_version: int) -> set[str]:
    """Paths already tagged in ``output`` (empty when it does not exist yet).

    Raises:
        ValueError: the output holds rows of another model or version, or cannot be read.
    """
    output = Path(output)
    try:
        done = _done_models(output)
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as e:
        raise ValueError(f"{output}: not a songid-tag output ({e!r})") from e
    others = {model for model in done.values() if model != (model_name, model_version)}
    if others:
        found = ", ".join(f"{name} v{version}" for name, version in sorted(others))
        raise ValueError(
            f"{output}: holds rows of {found}, not {model_name} v{model_version}; choose another output"
        )
    return set(done)


class Sink(Protocol):
    """Receives rows in any order; ``close`` makes everything written durable."""

    def write(self, row: Row) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """Appends one JSON object per line to a file, flushed after every row."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cut_torn_line()
        self._file = self.path.open("a", encoding="utf-8")

    def _cut_torn_line(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)

    def write(self, row: Row) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ParquetSink:
    """Buffers rows and writes them as whole part files of at most ``rows_per_part`` rows."""

    def __init__(self, folder: Path | str, tasks: list[str], *, rows_per_part: int = 1000) -> None:
        if rows_per_part < 1:
            raise ValueError(f"rows_per_part must be >= 1, got {rows_per_part}")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{self.folder}: a Parquet output is a folder of part files, but this is a file")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tasks = tasks
        self.rows_per_part = rows_per_part
        self._rows: list[Row] = []
        self.parts_written = 0

    def write(self, row: Row) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.rows_per_part:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one part: a temporary file, renamed when complete."""
        if not self._rows:
            return
        _, pq = _pyarrow()
        name = f"{PART_PREFIX}{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = self.folder / f".{name}.tmp"
        pq.write_table(rows_to_table(self._rows, self.tasks), tmp)
        tmp.replace(self.folder / name)
        self._rows = []
        self.parts_written += 1

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_sink(output: Path | str, tasks: list[str], *, rows_per_part: int = 1000) -> JsonlSink | ParquetSink:
    """The sink for ``output``'s format (see :func:`output_format`)."""
    if output_format(output) == "jsonl":
        return JsonlSink(output)
    return ParquetSink(output, tasks, rows_per_part=rows_per_part)
