"""The naive peer: what one would write from the paper with librosa and the Keras model.

``librosa.load`` at its defaults (22 050 Hz), ``librosa.resample`` to 16 kHz, the log-mel
with ``librosa.feature.melspectrogram``, 3-second segments, then the Keras model's ``predict``.
Same model weights as the served ONNX file. Run as its own process (it imports TensorFlow)::

    python -m bench.naive --track song.flac --keras run/model.keras --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.repo import REPO_ROOT
from frontend.audio import HOP_LENGTH, LOG_OFFSET, LOG_SCALE, N_FFT, N_MELS, SAMPLE_RATE, SEGMENT_FRAMES


def naive_segments(path: Path) -> np.ndarray:
    import librosa

    y, sr = librosa.load(path)  # mono, resampled to 22 050 Hz
    y = librosa.resample(y, orig_sr=sr, target_sr=SAMPLE_RATE)
    mel = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS
    )
    log_mel = np.log10(LOG_OFFSET + LOG_SCALE * mel).T
    n = max(1, log_mel.shape[0] // SEGMENT_FRAMES)
    if log_mel.shape[0] < SEGMENT_FRAMES:
        log_mel = np.pad(log_mel, ((0, SEGMENT_FRAMES - log_mel.shape[0]), (0, 0)))
    return log_mel[: n * SEGMENT_FRAMES].reshape(n, SEGMENT_FRAMES, N_MELS, 1)


def _describe(keras_path: Path | None) -> str:
    if keras_path is None:
        return "a network built with training.model.build_model (no trained weights found)"
    try:
        return f"`{keras_path.resolve().relative_to(REPO_ROOT)}`"
    except ValueError:
        return f"`{keras_path.name}`"


def measure(track: Path, keras_path: Path | None, n_classes: dict[str, int], repeats: int) -> dict[str, Any]:
    """Seconds per song for each call (the first includes graph tracing), and the song's top labels."""

    from training.model import build_model, load_model

    started = time.perf_counter()
    model = load_model(keras_path) if keras_path is not None else build_model(n_classes)
    load_s = time.perf_counter() - started
    seconds, decode_s = [], []
    probs: dict[str, list[float]] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        segments = naive_segments(track)
        decoded = time.perf_counter()
        out = model.predict(segments, verbose=0)
        seconds.append(time.perf_counter() - started)
        decode_s.append(decoded - started)
        probs = {task: np.asarray(p).mean(axis=0).tolist() for task, p in out.items()}
    return {
        "seconds": seconds,
        "front_end_seconds": decode_s,
        "model_load_s": load_s,
        "n_segments": int(segments.shape[0]),
        "song_probs": probs,
        "weights": _describe(keras_path),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--track", type=Path, required=True)
    parser.add_argument("--keras", type=Path, default=None, help="model.keras (else a freshly built network)")
    parser.add_argument("--classes", default="{}", help='JSON {"task": n_classes} when --keras is absent')
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, required=True, help="where to write the result")
    args = parser.parse_args(argv)
    keras_path = args.keras if args.keras is not None and args.keras.is_file() else None
    result = measure(args.track, keras_path, json.loads(args.classes), args.repeats)
    args.json.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
