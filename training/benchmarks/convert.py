"""Decode source audio, mix or concatenate it, and write 16 kHz mono 16-bit FLAC.

Conversions run in worker processes; each output is written to a temporary name
and renamed when complete, so an interrupted build never leaves a half-written
file that a re-run would take as done.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

from frontend.audio import SAMPLE_RATE, AudioDecodeError, load_audio

log = logging.getLogger(__name__)

GSM_RATE = 8000  # raw GSM 6.10 (.gsm) files carry no header: 8 kHz mono by definition
GSM_FRAME_BYTES = 33
GSM_FRAME_SAMPLES = 160
PEAK_LIMIT = 0.99  # a mix louder than this is scaled down rather than clipped


def md5_file(path: Path, *, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 of a file's bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def source_duration(path: Path, *, verify: bool = False) -> float:
    """Duration in seconds read from the header; raw .gsm from its size.

    Args:
        path: the audio file.
        verify: also decode files whose header does not prove they decode (raw
            GSM, compressed WAV subtypes such as GSM 6.10); cheap for short prompts.

    Raises:
        AudioDecodeError: the header cannot be read, or (``verify``) the audio cannot be decoded.
    """
    if path.suffix.lower() == ".gsm":
        subtype = "GSM610"
        duration = (path.stat().st_size // GSM_FRAME_BYTES) * GSM_FRAME_SAMPLES / GSM_RATE
    else:
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioDecodeError(f"cannot read the header of {path}: {e}") from e
        subtype = str(info.subtype)
        duration = float(info.frames) / float(info.samplerate) if info.samplerate else 0.0
    if verify and not subtype.startswith(("PCM", "FLOAT", "DOUBLE")):
        try:
            duration = load_source(path).shape[0] / SAMPLE_RATE
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            raise AudioDecodeError(f"cannot decode {path}: {e}") from e
    return duration


def load_raw_gsm(path: Path) -> np.ndarray:
    """Decode a headerless GSM 6.10 file (asterisk ``.gsm``) to mono float32 at ``SAMPLE_RATE``."""
    try:
        data, _ = sf.read(
            str(path), format="RAW", subtype="GSM610", samplerate=GSM_RATE, channels=1, dtype="float32"
        )
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioDecodeError(f"cannot decode raw GSM file {path}: {e}") from e
    if data.size == 0:
        raise AudioDecodeError(f"no audio frames in {path}")
    resampled = soxr.resample(data, GSM_RATE, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(resampled, dtype=np.float32)


def load_source(path: Path) -> np.ndarray:
    """Any supported source (wav, flac, ogg, opus, mp3, raw gsm) as mono float32 at ``SAMPLE_RATE``."""
    if path.suffix.lower() == ".gsm":
        return load_raw_gsm(path)
    return load_audio(path)


def mix(signals: Sequence[np.ndarray]) -> np.ndarray:
    """Sum signals played together (shorter ones padded with silence), scaled down if it would clip."""
    if not signals:
        raise ValueError("mix needs at least one signal, got none")
    out = np.zeros(max(s.shape[0] for s in signals), dtype=np.float32)
    for s in signals:
        out[: s.shape[0]] += s
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > PEAK_LIMIT:
        out *= PEAK_LIMIT / peak
    return out


def concatenate(signals: Sequence[np.ndarray], *, gap_s: float) -> np.ndarray:
    """Join signals one after another with ``gap_s`` seconds of silence between them."""
    if not signals:
        raise ValueError("concatenate needs at least one signal, got none")
    if gap_s < 0:
        raise ValueError(f"gap_s must be >= 0, got {gap_s!r}")
    gap = np.zeros(round(gap_s * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, s in enumerate(signals):
        if i:
            parts.append(gap)
        parts.append(s.astype(np.float32, copy=False))
    return np.concatenate(parts)


def write_flac(samples: np.ndarray, out: Path) -> float:
    """Write mono ``SAMPLE_RATE`` samples as 16-bit FLAC atomically; return the duration in seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.flac")
    try:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return samples.shape[0] / SAMPLE_RATE


def flac_duration(path: Path) -> float:
    """Duration in seconds of an already converted file."""
    info = sf.info(str(path))
    return float(info.frames) / float(info.samplerate)


@dataclass(frozen=True)
class ConvertJob:
    """Produce ``output`` from ``inputs``: mixed together (``"mix"``) or one after another (``"concat"``)."""

    inputs: tuple[Path, ...]
    output: Path
    mode: str = "mix"
    gap_s: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("mix", "concat"):
            raise ValueError(f"mode must be 'mix' or 'concat', got {self.mode!r}")
        if not self.inputs:
            raise ValueError(f"job for {self.output} has no inputs")


def run_job(job: ConvertJob) -> float:
    """Decode, combine and write one job; return the output duration in seconds."""
    signals = [load_source(p) for p in job.inputs]
    samples = mix(signals) if job.mode == "mix" else concatenate(signals, gap_s=job.gap_s)
    return write_flac(samples, job.output)


_DECODE_ERRORS = (AudioDecodeError, sf.LibsndfileError, RuntimeError, OSError, ValueError)


def run_jobs(
    jobs: Sequence[ConvertJob], *, workers: int, desc: str
) -> tuple[dict[Path, float], dict[Path, str]]:
    """Run conversion jobs, skipping outputs that already exist.

    Args:
        jobs: the conversions; outputs must be distinct.
        workers: processes to use (1 runs in this process).
        desc: progress bar label.

    Returns:
        ``(durations, failures)``: output path -> seconds for every output now on
        disk, and output path -> error message for jobs whose input did not decode.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    durations: dict[Path, float] = {}
    failures: dict[Path, str] = {}
    todo = []
    for job in jobs:
        if job.output.is_file():
            durations[job.output] = flac_duration(job.output)
        else:
            todo.append(job)
    if len(jobs) - len(todo):
        log.info("%s: %d of %d files already converted", desc, len(jobs) - len(todo), len(jobs))
    with tqdm(total=len(todo), desc=desc, unit="file", disable=not todo) as bar:
        if workers == 1 or len(todo) <= 1:
            for job in todo:
                try:
                    durations[job.output] = run_job(job)
                except _DECODE_ERRORS as e:
                    failures[job.output] = f"{type(e).__name__}: {e}"
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(run_job, job): job for job in todo}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        durations[job.output] = future.result()
                    except _DECODE_ERRORS as e:
                        failures[job.output] = f"{type(e).__name__}: {e}"
                    bar.update()
    for output, reason in sorted(failures.items()):
        log.warning("could not convert %s: %s", output, reason)
    return durations, failures


def prune_stale(audio_dir: Path, keep: set[Path]) -> int:
    """Delete ``*.flac`` files under ``audio_dir`` that are not in ``keep``; return how many.

    Converted files are named after the content they were made from, so a
    changed package or grouping leaves files no manifest refers to.
    """
    if not audio_dir.is_dir():
        return 0
    keep = {p.resolve() for p in keep}
    removed = 0
    for path in audio_dir.rglob("*.flac"):
        if path.resolve() not in keep:
            path.unlink()
            removed += 1
    if removed:
        log.info("removed %d stale files from %s", removed, audio_dir)
    return removed
