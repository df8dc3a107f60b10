"""One file to one result row, with the service's own model class and pipeline.

A :class:`Tagger` holds one :class:`~service.model.SongModel` (one ONNX Runtime session)
and runs files through :class:`service.pipeline.Pipeline`, the object that answers
``POST /predict``: the same header check, decoding, log-mel, batched inference, song-level
averaging and ranking, under the same limits (:mod:`service.limits`). A row therefore holds
exactly what the service would answer for that file.

Row layout (see :func:`columns`), for tasks ``artist`` and ``language``::

    path                    str    the item's key (relative to the input folder, or as in the manifest)
    duration_s              float  seconds of audio analysed; None on error
    n_segments              int    3-second segments classified; None on error
    artist_labels           [str]  top-k label ids, most probable first; [] on error
    artist_probabilities    [float] their song-level probabilities (float64, in [0, 1])
    artist_status           str    known | unknown | no_evidence (service.decisions); None on error
    artist_label            str    the label when known, else None
    artist_score            float  the open-set score (None for no_evidence)
    artist_source           str    trained | enrolled (a gallery's artist) when known, else None
    language_labels, language_probabilities, language_status, language_label, language_score,
    language_source
    model_name, model_version
    error                   str    None, or "<code>: <message>" when the file could not be tagged
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from service.batch.sources import Item
from service.domain_errors import DomainError, ServiceError
from service.gallery.gallery import open_gallery
from service.limits import DEFAULT_LIMITS, AnalysisLimits, check_top_k, limits_of
from service.model import SongModel
from service.pipeline import Pipeline

if TYPE_CHECKING:
    from service.settings import ExecutionProvider

logger = logging.getLogger(__name__)

Row = dict[str, Any]
LEADING_COLUMNS: Final = ("path", "duration_s", "n_segments")
TRAILING_COLUMNS: Final = ("model_name", "model_version", "error")


PER_TASK_COLUMNS: Final = ("labels", "probabilities", "status", "label", "score", "source")
GALLERY_POLL_S: Final = 60.0  # a long job sees enrolments made meanwhile within a minute


def columns(tasks: list[str]) -> list[str]:
    """Every column of a row, in order, for a model with these tasks."""
    per_task = [f"{task}_{part}" for task in tasks for part in PER_TASK_COLUMNS]
    return [*LEADING_COLUMNS, *per_task, *TRAILING_COLUMNS]


@dataclass(frozen=True)
class TagOptions:
    """What every engine needs to build the same :class:`Tagger` in each of its workers.

    Attributes:
        model_dir: the model folder, or a folder holding exactly one (as ``models/``).
        model_version: numbered version to use; ``None`` takes the highest.
        provider: ONNX Runtime execution provider: ``auto``, ``cpu`` or ``cuda``.
        top_k: labels kept per task, 1 to 100.
        max_duration_s: seconds of audio analysed per file; decoding stops there.
        max_decoded_bytes: largest decoded PCM a file's header may promise, bytes.
        batch_size: segments per ONNX Runtime call.
        gallery_url: an artist gallery (``sqlite:///<file>`` or ``postgresql://...``) whose enrolled
            artists are answered too (read only); None: the model's trained artists alone.
    """

    model_dir: str
    model_version: int | None = None
    provider: ExecutionProvider = "auto"
    top_k: int = 5
    max_duration_s: float = DEFAULT_LIMITS.max_duration_s
    max_decoded_bytes: int = DEFAULT_LIMITS.max_decoded_bytes
    batch_size: int = DEFAULT_LIMITS.batch_size
    gallery_url: str | None = None

    @property
    def limits(self) -> AnalysisLimits:
        """The limits of one analysis, as the service and the batch tagger both take them."""
        return limits_of(self)

    def __post_init__(self) -> None:
        check_top_k(self.top_k)
        _ = self.limits  # checks the limits' bounds
        if self.model_version is not None and self.model_version < 1:
            raise ValueError(f"model_version must be >= 1, got {self.model_version}")


def describe_error(error: Exception) -> str:
    """The row's ``error`` text: the service's code and message, or the exception's type."""
    if isinstance(error, ServiceError):
        return f"{error.code}: {error.message}"
    if isinstance(error, DomainError):
        return f"{type(error).__name__}: {error.message}"
    if isinstance(error, OSError):
        return f"unreadable: {error}"
    return f"{type(error).__name__}: {error}"


class Tagger:
    """A loaded model plus the service's pipeline; tags one file at a time (not thread-safe).

    Raises:
        service.model.ModelLoadError: the model folder cannot be served.
    """

    def __init__(self, options: TagOptions, *, intra_op_threads: int = 0, inter_op_threads: int = 1) -> None:
        self.options = options
        self.model = SongModel(
            options.model_dir,
            version=options.model_version,
            provider=options.provider,
            intra_op_threads=intra_op_threads,
            inter_op_threads=inter_op_threads,
            batch_size=options.batch_size,
        )
        self.model.load()
        gallery = None
        if options.gallery_url:
            gallery, why_not = open_gallery(
                self.model.artifact, url=options.gallery_url, poll_s=GALLERY_POLL_S, threshold=None
            )
            if gallery is None:
                raise ValueError(f"no artist gallery: {why_not}")
            if gallery.problem is not None:  # rows would silently miss the enrolled artists
                raise ValueError(gallery.problem)
        self._pipeline = Pipeline(self.model, options.limits, gallery=gallery)  # no metrics in batch workers

    @property
    def tasks(self) -> list[str]:
        return self.model.artifact.tasks

    def empty_row(self, key: str) -> Row:
        """A row for ``key`` with no prediction yet (what an error row keeps)."""
        row: Row = {"path": key, "duration_s": None, "n_segments": None}
        for task in self.tasks:
            row[f"{task}_labels"] = []
            row[f"{task}_probabilities"] = []
            row[f"{task}_status"] = row[f"{task}_label"] = row[f"{task}_score"] = row[f"{task}_source"] = None
        row.update(model_name=self.model.name, model_version=self.model.version, error=None)
        return row

    def tag(self, item: Item) -> Row:
        """Analyse one file; any failure becomes the row's ``error``, never an exception."""
        row = self.empty_row(item.key)
        try:
            with open(item.location, "rb") as source:  # noqa: PTH123 - a plain binary stream
                analysis = self._pipeline.analyse(source)
        except Exception as e:  # one bad file must not stop a catalog
            row["error"] = describe_error(e)
            logger.debug("cannot tag %s: %s", item.key, row["error"])
            return row
        row["duration_s"] = float(analysis.duration_s)
        row["n_segments"] = int(analysis.n_segments)
        for task, decision in analysis.decisions.items():
            row[f"{task}_status"] = decision.status
            row[f"{task}_label"] = decision.label.id if decision.label else None
            row[f"{task}_score"] = decision.score
            row[f"{task}_source"] = decision.source if decision.status == "known" else None
        for task, scores in analysis.ranked(self.options.top_k).items():
            row[f"{task}_labels"] = [score.label.id for score in scores]
            row[f"{task}_probabilities"] = [score.probability for score in scores]
        return row

    def close(self) -> None:
        self.model.close()
