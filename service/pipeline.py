"""The serving pipeline, free of HTTP: audio in, a typed :class:`~service.analysis.Analysis` out.

decode budget -> decode and resample -> log-mel -> evidence (no usable signal: stop, every
task ``no_evidence``) -> segments -> batched inference -> song averaging -> ranking and
decisions (:mod:`service.decisions`). ``POST /predict``, ``/v2`` (network only, :meth:`Pipeline.infer`) and
both ``songid-tag`` engines call this one object, so a tagged row holds exactly what the
service answers. It runs in whatever thread calls it; admission (slots, queue, deadlines,
the worker pool) is :mod:`service.admission`'s.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from time import perf_counter
from typing import BinaryIO, Protocol

import numpy as np
import soundfile as sf

from frontend.audio import SAMPLE_RATE, AudioDecodeError, load_audio, log_mel, segment, segment_times
from frontend.evidence import assess
from frontend.openset import OpenSetRule
from frontend.signature import EMBEDDING
from service.analysis import Analysis, GalleryState
from service.cancellation import CancelToken
from service.decisions import Decision, decide, effective_rules
from service.decode_budget import check_decode_budget
from service.domain_errors import NotAnalysableError, PayloadTooLargeError, UnsupportedMediaError
from service.limits import MAX_TOP_K, AnalysisLimits
from service.metrics import Metrics
from service.model import OthersBusy, SongModel
from service.ranking import Match, song_probabilities


class ArtistRanking(Protocol):
    """What the pipeline asks of an artist gallery (:class:`service.gallery.gallery.Gallery`)."""

    @property
    def state(self) -> GalleryState:
        """``current``, or ``stale`` while its store cannot be used (ranked against the last loaded)."""
        ...

    def rank(self, embedding: np.ndarray, *, top_k: int) -> tuple[list[Match], Decision | None]: ...


logger = logging.getLogger(__name__)

WARM_UP_SECONDS = 3.5
WARM_UP_RATE = 44_100  # not the model's rate, so warming up also runs the resampler
WARM_UP_NOTES_HZ = (220.0, 330.0, 262.0, 392.0)  # the warm-up's notes: a signal with evidence


class Pipeline:
    """The model and the limits of one analysis; thread-safe (the model's session is).

    Args:
        model: a :class:`SongModel`, loaded before the first analysis.
        limits: decoding and batching limits (:mod:`service.limits`).
        metrics: where analysis times and audio seconds are recorded; ``None`` records nothing.
        others_busy: the model's thread policy (see :meth:`SongModel.predict`); the service
            passes its admission's, a batch worker none.
        thresholds: per task, an open-set threshold that replaces the model folder's.
        gallery: trained and enrolled artists compared on the embedding; None: the heads alone.
    """

    def __init__(
        self,
        model: SongModel,
        limits: AnalysisLimits,
        *,
        metrics: Metrics | None = None,
        others_busy: OthersBusy | None = None,
        thresholds: dict[str, float] | None = None,
        gallery: ArtistRanking | None = None,
    ) -> None:
        self.model = model
        self.limits = limits
        self._metrics = metrics
        self._others_busy = others_busy
        self._thresholds = dict(thresholds or {})
        self.gallery = gallery
        self._rules: dict[str, OpenSetRule] | None = None
        self._warmed = False

    @property
    def ready(self) -> bool:
        """Model loaded and the whole pipeline run once (first-call costs paid)."""
        return self._warmed and self.model.ready

    @property
    def rules(self) -> dict[str, OpenSetRule]:
        """Per task, the open-set rule in force (the model folder's, with the operator's thresholds).

        Raises:
            ValueError: a threshold names a task the model does not have.
        """
        if self._rules is None:
            artifact = self.model.artifact
            self._rules = effective_rules(self.model.openset, self._thresholds, artifact.tasks)
        return self._rules

    def warm_up(self) -> None:
        """Analyse a few seconds of synthetic notes so the first request is not slow.

        Raises:
            ValueError: an operator's threshold names a task the model does not have.
        """
        t = np.arange(int(WARM_UP_SECONDS * WARM_UP_RATE)) / WARM_UP_RATE
        note = np.asarray(WARM_UP_NOTES_HZ)[(t * 4).astype(int) % len(WARM_UP_NOTES_HZ)]
        notes = (0.2 * np.sin(2 * np.pi * note * t) * np.exp(-3 * (t % 0.25))).astype(np.float32)
        buffer = io.BytesIO()
        sf.write(buffer, notes, WARM_UP_RATE, format="WAV", subtype="PCM_16")
        buffer.seek(0)
        started = perf_counter()
        _ = self.rules
        if not self._analyse(buffer, CancelToken(), record=False).evidence.present:
            raise RuntimeError("the warm-up notes were judged without evidence: the network did not run")
        self._warmed = True
        logger.info("pipeline warmed up", extra={"fields": {"seconds": round(perf_counter() - started, 3)}})

    def analyse(
        self, source: BinaryIO, cancel: CancelToken | None = None, *, rank_artists: bool = True
    ) -> Analysis:
        """Decode, segment, classify and average one file.

        Args:
            source: the encoded file (WAV, FLAC, Ogg, Opus, MP3), readable from the start.
            cancel: checked between stages; a cancellation also ends a running inference.
            rank_artists: compare the song with the gallery's artists (when there is a gallery);
                False for a song being enrolled, which needs its embedding only.

        Raises:
            PayloadTooLargeError: the header promises more decoded audio than the limits allow.
            UnsupportedMediaError: not decodable audio, or no samples.
            NotAnalysableError: samples so large that the spectrum, or the network, overflows.
            service.cancellation.WorkCancelledError: ``cancel`` was cancelled.
        """
        return self._analyse(source, cancel or CancelToken(), record=True, rank_artists=rank_artists)

    def infer(self, segments: np.ndarray, cancel: CancelToken | None = None) -> dict[str, np.ndarray]:
        """The network alone: every output for ``(n, 187, 96, 1)`` log-mel segments.

        Raises:
            NotAnalysableError: an output is not finite for these segments.
        """
        started = perf_counter()
        outputs = self._predict(segments, cancel)
        if self._metrics is not None:
            self._metrics.inference_seconds.observe(perf_counter() - started)
        return outputs

    def _predict(self, segments: np.ndarray, cancel: CancelToken | None) -> dict[str, np.ndarray]:
        outputs = self.model.predict(segments, cancel=cancel, others_busy=self._others_busy)
        broken = [name for name, values in outputs.items() if not np.isfinite(values).all()]
        if broken:
            raise NotAnalysableError(f"the network's output {broken} is not finite for this input")
        return outputs

    def _analyse(
        self, source: BinaryIO, cancel: CancelToken, *, record: bool, rank_artists: bool = True
    ) -> Analysis:
        started = perf_counter()
        gallery = self.gallery if rank_artists else None
        task = self.model.artifact.gallery_task
        mel, samples = self._decode(source)
        duration_s = samples.shape[0] / SAMPLE_RATE
        if not np.isfinite(mel.max()):  # log-mels are >= 0: NaN or inf shows in the maximum
            raise NotAnalysableError(
                "the audio's level is beyond what can be analysed (its spectrum overflows)"
            )
        heads, served = self.model.head_labels, self.model.labels
        evidence = assess(mel, duration_s=duration_s)
        if not evidence.present:
            nothing = Analysis.without_evidence(duration_s, evidence, served)
            return self._record(
                replace(nothing, gallery_state=gallery.state if gallery is not None else None),
                decode_s=perf_counter() - started,
                inference_s=None,
                record=record,
            )
        segments = segment(mel)[..., np.newaxis]
        cancel.raise_if_cancelled()
        decoded = perf_counter()
        outputs = self._predict(segments, cancel)
        song_probs = {task: song_probabilities(outputs[task]) for task in heads}
        tensors = {name: out for name, out in outputs.items() if name not in heads}
        song_outputs = {name: out.mean(axis=0, dtype=np.float64) for name, out in tensors.items()}
        language, voice = self.model.language.language, None
        if language is not None:  # the network gates, the expert names (service/language.py)
            answer = language.song(outputs["language"], samples)
            song_probs["language"], voice = answer.probs, answer.voice
        decisions = {task: decide(song_probs[task], served[task], self.rules.get(task)) for task in served}
        artists: list[Match] = []
        gallery_state = None
        if gallery is not None and task is not None and EMBEDDING in song_outputs:
            artists, by_gallery = gallery.rank(song_outputs[EMBEDDING], top_k=MAX_TOP_K)
            gallery_state = gallery.state
            decisions[task] = by_gallery or decisions[task]
        analysis = Analysis(
            duration_s=duration_s,
            evidence=evidence,
            decisions=decisions,
            segment_times=segment_times(segments.shape[0]),
            segment_probs={task: outputs[task] for task in heads},
            song_probs=song_probs,
            segment_outputs=tensors,
            song_outputs=song_outputs,
            labels=served,
            artists=artists,
            gallery_state=gallery_state,
            segment_labels=heads,
            voice=voice,
        )
        return self._record(
            analysis, decode_s=decoded - started, inference_s=perf_counter() - decoded, record=record
        )

    def _decode(self, source: BinaryIO) -> tuple[np.ndarray, np.ndarray]:
        """The whole file's log-mel ``(n_frames, 96)`` and its samples (mono, 16 kHz, analysed)."""
        limits = self.limits
        check_decode_budget(source, max_duration_s=limits.max_duration_s, max_bytes=limits.max_decoded_bytes)
        try:
            samples = load_audio(source, max_duration_s=limits.max_duration_s)
            if samples.shape[0] == 0:
                raise UnsupportedMediaError("the file holds no audio samples to analyse")
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused by the caller, unlogged
                mel = log_mel(samples)
            return mel, samples
        except AudioDecodeError as e:
            raise UnsupportedMediaError(f"cannot decode the file as audio: {e}") from e
        except MemoryError as e:
            raise PayloadTooLargeError("the decoded audio does not fit in memory") from e

    def _record(
        self, analysis: Analysis, *, decode_s: float, inference_s: float | None, record: bool
    ) -> Analysis:
        if record and self._metrics is not None:
            self._metrics.observe_analysis(
                decode_s=decode_s, inference_s=inference_s, audio_s=analysis.duration_s
            )
            for task, decision in analysis.decisions.items():
                self._metrics.decisions.labels(task=task, status=decision.status).inc()
        return analysis
