"""The model: an ONNX Runtime session over a checked artifact folder. Knows nothing of HTTP.

Modelled on a model-server model class: :meth:`SongModel.load` reads and checks the
artifact and opens the session, :attr:`SongModel.ready` says whether it can serve, and
:meth:`SongModel.predict` turns a batch of log-mel segments into per-task probabilities.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from frontend.artifact import Artifact, ArtifactError, load_artifact
from frontend.audio import INPUT_SHAPE
from frontend.labels import LabelSet
from frontend.openset import OpenSetRule
from frontend.signature import INPUT_NAME
from service.cancellation import CancelToken, WorkCancelledError
from service.components import SERVED_ROLES, ComponentLoadError, LanguageState, load_language
from service.domain_errors import ModelNotReadyError

if TYPE_CHECKING:
    from service.settings import ExecutionProvider, Settings

logger = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


class ModelLoadError(RuntimeError):
    """The model cannot be served; the message names the file and the problem."""


def choose_providers(choice: ExecutionProvider, available: list[str]) -> list[str]:
    """The ONNX Runtime providers to ask for, best first; CPU is always the fallback."""
    if choice == "cpu":
        return [CPU]
    if choice == "cuda":
        if CUDA not in available:
            raise ModelLoadError(
                f"execution provider 'cuda' requested but this ONNX Runtime offers only {available}"
            )
        return [CUDA, CPU]
    return [CUDA, CPU] if CUDA in available else [CPU]


OthersBusy = Callable[[], bool]
"""The thread policy's question: are other predictions being decoded or inferred now?"""


class SongModel:
    """Every output of the exported network (task heads and other tensors) from log-mel segments."""

    def __init__(
        self,
        model_dir: Path | str,
        *,
        version: int | None = None,
        provider: ExecutionProvider = "auto",
        intra_op_threads: int = 0,
        inter_op_threads: int = 0,
        batch_size: int = 8,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.requested_version = version
        self.provider = provider
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = inter_op_threads
        self.batch_size = batch_size
        self._artifact: Artifact | None = None
        self._session: ort.InferenceSession | None = None
        self._shared_session: ort.InferenceSession | None = None  # one thread, while several run
        self._running = 0  # predictions in progress
        self._running_lock = threading.Lock()
        self._language = LanguageState("none")

    @classmethod
    def from_settings(cls, settings: Settings) -> SongModel:
        return cls(
            settings.model_dir,
            version=settings.model_version,
            provider=settings.execution_provider,
            intra_op_threads=settings.intra_op_threads,
            inter_op_threads=settings.inter_op_threads,
            batch_size=settings.batch_size,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def load(self) -> None:
        """Read and check the artifact, open the session, run one inference.

        Raises:
            ModelLoadError: missing, corrupt or mismatched artifact, or an ONNX graph whose
                inputs and outputs do not match the folder's signature.
        """
        try:
            artifact = load_artifact(self.model_dir, version=self.requested_version)
        except ArtifactError as e:
            raise ModelLoadError(str(e)) from e
        unserved = [
            f"{c.name!r} ({c.role})" for c in artifact.components.components if c.role not in SERVED_ROLES
        ]
        if unserved:
            raise ModelLoadError(
                f"{artifact.root}: components {', '.join(unserved)} have roles this service cannot load "
                f"(it serves {list(SERVED_ROLES)})"
            )
        ort.disable_telemetry_events()  # the service sends nothing anywhere
        providers = choose_providers(self.provider, ort.get_available_providers())
        if CUDA in providers and hasattr(ort, "preload_dlls"):
            ort.preload_dlls()  # CUDA libraries installed as Python packages
        session = self._open(artifact, providers, self.intra_op_threads)
        if self.provider == "cuda" and CUDA not in session.get_providers():
            raise ModelLoadError(
                f"{artifact.onnx_path}: execution provider 'cuda' requested but the session fell back to "
                f"{session.get_providers()} (are the CUDA and cuDNN libraries installed?)"
            )
        self._check_signature(session, artifact)
        device = "cuda" if CUDA in session.get_providers() else "cpu"
        try:
            language = load_language(artifact, device=device, threads=self.intra_op_threads)
        except ComponentLoadError as e:
            raise ModelLoadError(str(e)) from e
        shared = None
        if self.intra_op_threads == 0 and CUDA not in session.get_providers() and (os.cpu_count() or 1) > 1:
            # Automatic threads: ONNX Runtime's default pool (every core) serves a request handled
            # alone; while others are handled it uses this one-thread session instead, which
            # measured faster in total than sharing the cores between thread pools.
            shared = self._open(artifact, providers, 1)
        self._artifact, self._session, self._shared_session = artifact, session, shared
        self._language = language
        warm = np.zeros((1, *INPUT_SHAPE), dtype=np.float32)
        for opened in (session, shared):
            if opened is not None:
                opened.run(artifact.signature.output_names, {INPUT_NAME: warm})
        logger.info(
            "model loaded",
            extra={
                "fields": {
                    "model": artifact.name,
                    "version": artifact.version,
                    "providers": session.get_providers(),
                }
            },
        )

    def _open(self, artifact: Artifact, providers: list[str], intra_op_threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = self.inter_op_threads
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(str(artifact.onnx_path), options, providers=providers)
        except Exception as e:  # ORT raises several unrelated types for unreadable models
            raise ModelLoadError(f"{artifact.onnx_path}: cannot load ONNX model: {e}") from e

    def close(self) -> None:
        self._session = self._shared_session = None

    @property
    def ready(self) -> bool:
        return self._session is not None and self._artifact is not None

    # -- what is being served --------------------------------------------------------------

    @property
    def artifact(self) -> Artifact:
        if self._artifact is None:
            raise ModelNotReadyError("the model is not loaded")
        return self._artifact

    @property
    def name(self) -> str:
        return self.artifact.name

    @property
    def version(self) -> int:
        return self.artifact.version

    @property
    def labels(self) -> LabelSet:
        """What the service answers per task: the network's heads, the language expert's languages
        (and ``zxx``) in place of the language head's when the expert is loaded."""
        labels = dict(self.artifact.labels)
        if self._language.language is not None:
            labels["language"] = self._language.language.labels
        return labels

    @property
    def head_labels(self) -> LabelSet:
        """The network's heads' labels, in output order."""
        return self.artifact.labels

    @property
    def openset(self) -> dict[str, OpenSetRule]:
        """Per task, the folder's open-set rule of the answer served (the expert's for language)."""
        rules = dict(self.artifact.openset)
        if self._language.rule is not None:
            rules["language"] = self._language.rule
        return rules

    @property
    def language(self) -> LanguageState:
        """The language expert: loaded (with its gate), absent from the folder, or none listed."""
        return self._language

    @property
    def providers(self) -> list[str]:
        """Execution providers the session actually uses (not merely those asked for)."""
        return list(self._session.get_providers()) if self._session is not None else []

    # -- inference -------------------------------------------------------------------------

    def predict(
        self,
        segments: np.ndarray,
        *,
        cancel: CancelToken | None = None,
        others_busy: OthersBusy | None = None,
    ) -> dict[str, np.ndarray]:
        """Per-segment values of every output of the signature.

        Args:
            segments: ``(n, 187, 96, 1)`` float32 log-mel segments, n >= 1.
            cancel: checked between batches; a cancellation also terminates a running batch.
            others_busy: the thread policy, asked before each batch: with automatic threads,
                while it says yes (or another prediction runs) this one uses a single thread.

        Returns:
            ``{output: (n, *shape) float32}`` in signature order: each head ``(n, n_labels)``
            probabilities, then the other tensors.
        """
        session, artifact = self._session, self._artifact
        if session is None or artifact is None:
            raise ModelNotReadyError("the model is not loaded")
        if segments.ndim != 4 or segments.shape[1:] != INPUT_SHAPE or segments.shape[0] < 1:
            raise ValueError(f"segments must have shape (n>=1, {INPUT_SHAPE}), got {segments.shape}")
        with self._running_lock:
            self._running += 1
        try:
            return self._predict(session, artifact.signature.output_names, segments, cancel, others_busy)
        finally:
            with self._running_lock:
                self._running -= 1

    def _predict(
        self,
        session: ort.InferenceSession,
        names: list[str],
        segments: np.ndarray,
        cancel: CancelToken | None,
        others_busy: OthersBusy | None,
    ) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for start in range(0, segments.shape[0], self.batch_size):
            shared = self._shared_session  # chosen per batch: other requests come and go
            crowded = self._running > 1 or (others_busy is not None and others_busy())
            runner = shared if shared is not None and crowded else session
            batch = np.ascontiguousarray(segments[start : start + self.batch_size], dtype=np.float32)
            run_options = ort.RunOptions()
            if cancel is None:
                outputs = runner.run(names, {INPUT_NAME: batch}, run_options)
            else:
                with cancel.track(run_options):
                    try:
                        outputs = runner.run(names, {INPUT_NAME: batch}, run_options)
                    except Exception as e:
                        if cancel.cancelled:
                            raise WorkCancelledError("inference terminated: the request was abandoned") from e
                        raise
                cancel.raise_if_cancelled()
            for name, out in zip(names, outputs, strict=True):
                parts[name].append(np.asarray(out, dtype=np.float32))
        return {name: np.concatenate(chunks, axis=0) for name, chunks in parts.items()}

    @staticmethod
    def _check_signature(session: ort.InferenceSession, artifact: Artifact) -> None:
        problems = artifact.signature.graph_mismatches(
            {i.name: i.shape for i in session.get_inputs()}, {o.name: o.shape for o in session.get_outputs()}
        )
        if problems:
            raise ModelLoadError(f"{artifact.onnx_path}: " + "; ".join(problems))
