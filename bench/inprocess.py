"""In-process measurements (no HTTP): the floor, ONNX Runtime thread and batch settings, and
the front end against librosa's reference implementation."""

from __future__ import annotations

import io
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.stats import median
from frontend.audio import (
    F_MAX,
    F_MIN,
    HOP_LENGTH,
    N_FFT,
    N_MELS,
    SAMPLE_RATE,
    load_audio,
    log_mel,
    segment,
)
from service.limits import DEFAULT_LIMITS
from service.model import SongModel
from service.pipeline import Pipeline

DEFAULT_BATCH: int = DEFAULT_LIMITS.batch_size


@dataclass(frozen=True)
class OrtSettings:
    intra: int = 0  # 0: ONNX Runtime's default
    inter: int = 0
    batch_size: int = DEFAULT_BATCH

    def label(self) -> str:
        intra = "automatic" if self.intra == 0 else str(self.intra)
        return f"intra {intra}, batch {self.batch_size}"

    def env(self) -> dict[str, str]:
        return {
            "SONGID_INTRA_OP_THREADS": str(self.intra),
            "SONGID_INTER_OP_THREADS": str(self.inter),
            "SONGID_BATCH_SIZE": str(self.batch_size),
        }


def load_pipeline(model_dir: Path, settings: OrtSettings) -> Pipeline:
    """The service's own pipeline object (decode, log-mel, model), without the HTTP layer."""
    model = SongModel(
        model_dir,
        provider="cpu",
        intra_op_threads=settings.intra,
        inter_op_threads=settings.inter,
        batch_size=settings.batch_size,
    )
    model.load()
    pipeline = Pipeline(model, DEFAULT_LIMITS)
    pipeline.warm_up()
    return pipeline


def analyse_once(pipeline: Pipeline, data: bytes) -> float:
    started = time.perf_counter()
    pipeline.analyse(io.BytesIO(data))
    return time.perf_counter() - started


def song_probs(model_dir: Path, data: bytes) -> dict[str, list[float]]:
    """The pipeline's song-level probabilities for ``data``, per task (one per class, in label order)."""
    pipeline = load_pipeline(model_dir, OrtSettings())
    analysis = pipeline.analyse(io.BytesIO(data))
    pipeline.model.close()
    return {task: probs.tolist() for task, probs in analysis.song_probs.items()}


@dataclass(frozen=True)
class Floor:
    """Seconds per song in-process: total and stage by stage, one entry per repeat."""

    settings: OrtSettings
    total: list[float]
    decode: list[float]  # decode + resample
    mel: list[float]  # log-mel + segmenting
    infer: list[float]
    n_segments: int

    @property
    def seconds(self) -> float:
        return median(self.total)

    @property
    def songs_per_s(self) -> float:
        return 1 / self.seconds


def measure_floors(model_dir: Path, data: bytes, grid: list[OrtSettings], *, repeats: int) -> list[Floor]:
    """The service's pipeline on one song for each settings in ``grid``, interleaved.

    Every round runs each settings once in turn (the whole pipeline, then stage by stage), so
    a change in machine load during the run affects all settings alike.
    """
    pipelines = [load_pipeline(model_dir, settings) for settings in grid]
    for pipeline in pipelines:
        analyse_once(pipeline, data)
    rows: list[dict[str, list[float]]] = [{"total": [], "decode": [], "mel": [], "infer": []} for _ in grid]
    n_segments = 0
    for _ in range(repeats):
        for pipeline, row in zip(pipelines, rows, strict=True):
            row["total"].append(analyse_once(pipeline, data))
            t0 = time.perf_counter()
            samples = load_audio(io.BytesIO(data), max_duration_s=DEFAULT_LIMITS.max_duration_s)
            t1 = time.perf_counter()
            segments = segment(log_mel(samples))[..., np.newaxis]
            t2 = time.perf_counter()
            pipeline.model.predict(segments)
            t3 = time.perf_counter()
            row["decode"].append(t1 - t0)
            row["mel"].append(t2 - t1)
            row["infer"].append(t3 - t2)
            n_segments = segments.shape[0]
    for pipeline in pipelines:
        pipeline.model.close()
    return [
        Floor(settings, row["total"], row["decode"], row["mel"], row["infer"], n_segments)
        for settings, row in zip(grid, rows, strict=True)
    ]


@dataclass(frozen=True)
class StreamRun:
    """``streams`` songs analysed at once (as the service's worker threads do)."""

    settings: OrtSettings
    streams: int
    songs: int
    wall_s: float
    latencies: list[float]

    @property
    def songs_per_s(self) -> float:
        return self.songs / self.wall_s

    @property
    def latency_p50(self) -> float:
        return median(self.latencies)


def measure_streams(
    model_dir: Path,
    data: bytes,
    grid: list[OrtSettings],
    streams: tuple[int, ...],
    *,
    songs_per_stream: int,
    rounds: int,
) -> list[StreamRun]:
    """Songs/s with ``n`` songs analysed at once, for each settings and ``n``; rounds interleaved."""
    pipelines = [load_pipeline(model_dir, settings) for settings in grid]
    for pipeline in pipelines:
        analyse_once(pipeline, data)
    walls: dict[tuple[int, int], list[float]] = {}
    latencies: dict[tuple[int, int], list[float]] = {}
    for _ in range(rounds):
        for i, pipeline in enumerate(pipelines):
            for n in streams:
                with ThreadPoolExecutor(n) as pool:
                    started = time.perf_counter()
                    took = list(
                        pool.map(
                            analyse_once, [pipeline] * (n * songs_per_stream), [data] * (n * songs_per_stream)
                        )
                    )
                    walls.setdefault((i, n), []).append(time.perf_counter() - started)
                latencies.setdefault((i, n), []).extend(took)
    for pipeline in pipelines:
        pipeline.model.close()
    return [
        StreamRun(settings, n, n * songs_per_stream, median(walls[i, n]), latencies[i, n])
        for i, settings in enumerate(grid)
        for n in streams
    ]


@dataclass(frozen=True)
class FrontEndCheck:
    frontend_s: list[float]
    librosa_s: list[float]
    max_abs_diff: float
    max_value: float
    n_values: int


def librosa_log_mel(samples: np.ndarray) -> np.ndarray:
    """The reference: the log-mel as computed with librosa's STFT and mel filters."""
    import librosa

    spec = librosa.stft(samples, n_fft=N_FFT, hop_length=HOP_LENGTH, window="hann", center=True)
    power = np.square(np.abs(spec), dtype=np.float32)
    basis = librosa.filters.mel(
        sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=F_MIN, fmax=F_MAX, dtype=np.float32
    )
    return np.log10(1.0 + 10_000.0 * (basis @ power)).T.astype(np.float32, copy=False)


def check_front_end(data: bytes, *, repeats: int) -> FrontEndCheck:
    """Time the front end's log-mel against librosa's on the same samples; compare the values."""
    samples = load_audio(io.BytesIO(data))
    ours, reference = log_mel(samples), librosa_log_mel(samples)
    ours_s, ref_s = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        log_mel(samples)
        t1 = time.perf_counter()
        librosa_log_mel(samples)
        ref_s.append(time.perf_counter() - t1)
        ours_s.append(t1 - t0)
    diff = float(np.abs(ours - reference).max()) if ours.shape == reference.shape else math.inf
    return FrontEndCheck(ours_s, ref_s, diff, float(np.abs(reference).max()), int(reference.size))
