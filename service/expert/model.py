"""The language expert: Whisper base's language detection on an already-decoded window of audio."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from frontend.audio import SAMPLE_RATE
from frontend.labels import Label
from service.expert.identity import PINNED
from service.expert.languages import iso_code, language_labels, whisper_codes
from service.expert.verify import ExpertError, verify

WINDOW_SECONDS: Final = 30  # Whisper's encoder sees 30 s; a shorter window is padded by faster-whisper
MAX_WINDOW_SAMPLES: Final = WINDOW_SECONDS * SAMPLE_RATE
DEFAULT_MAX_THREADS: Final = 4  # CTranslate2's own default


class LanguageExpert:
    """Whisper base (CTranslate2, via faster-whisper), loaded from a verified expert folder.

    Args:
        folder: the expert folder (``songid-expert fetch``); verified file by file before loading.
        device: ``"cpu"`` or ``"cuda"``.
        compute_type: CTranslate2's compute type; ``"int8"`` by default (on CUDA
            ``"int8_float16"`` or ``"float16"`` suit better).
        cpu_threads: threads of one inference on CPU; 0 means min(4, cores).
        num_workers: inferences that may run at once from several Python threads (each one's
            memory is extra).
        pins: file name -> SHA-256 the folder must match (the expert's own by default).

    Raises:
        ExpertIntegrityError: the folder is missing, corrupt or tampered with (file and hash named).
        ExpertError: faster-whisper is not installed, or it cannot load the folder.
    """

    def __init__(
        self,
        folder: Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        num_workers: int = 1,
        pins: Mapping[str, str] = PINNED,
    ) -> None:
        if cpu_threads < 0 or num_workers < 1:
            raise ValueError(
                f"cpu_threads must be >= 0 and num_workers >= 1, got {cpu_threads}, {num_workers}"
            )
        verify(folder, pins=pins)
        try:
            from faster_whisper import WhisperModel  # lazy: CTranslate2 loads only where the expert is used
        except ImportError as e:
            raise ExpertError("the language expert needs faster-whisper: pip install 'songid[expert]'") from e
        self.folder = folder
        self.codes = whisper_codes(folder)
        self._ids = {code: iso_code(code) for code in self.codes}
        self.labels: list[Label] = language_labels(self.codes)
        threads = cpu_threads or min(DEFAULT_MAX_THREADS, os.cpu_count() or 1)
        try:
            self._model: Any = WhisperModel(
                str(folder),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=num_workers,
            )
        except (RuntimeError, ValueError, OSError) as e:
            raise ExpertError(
                f"{folder}: faster-whisper cannot load it on {device} ({compute_type}): {e}"
            ) from e

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """The probability of each of the expert's languages being spoken or sung in ``audio``.

        Args:
            audio: mono samples, shape ``(n,)``, float32 at 16 kHz, 1 <= n <= 480,000 (30 s);
                a shorter window is padded as faster-whisper pads it.

        Returns:
            label id (see :func:`~service.expert.languages.iso_code`) -> probability; the
            expert's languages only (no ``zxx``), summing to 1. Whisper answers some language
            even for silence or instruments: telling those apart is not this model's job.

        Raises:
            ValueError: not a 1-D float32 array, empty, longer than 30 s, or not finite.
        """
        if not isinstance(audio, np.ndarray) or audio.ndim != 1 or audio.dtype != np.float32:
            shape = getattr(audio, "shape", None)
            raise ValueError(
                f"audio must be a 1-D float32 array at 16 kHz, got {type(audio).__name__} {shape}"
            )
        if not 0 < audio.shape[0] <= MAX_WINDOW_SAMPLES:
            raise ValueError(
                f"audio must hold 1 to {MAX_WINDOW_SAMPLES} samples (30 s), got {audio.shape[0]}"
            )
        if not np.isfinite(audio).all():
            raise ValueError("audio contains NaN or infinite samples")
        _, _, ranked = self._model.detect_language(audio=audio, language_detection_segments=1)
        return {self._ids[code]: float(p) for code, p in ranked}
