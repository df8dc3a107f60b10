"""Training-loop speed on the mel cache: segments per second for one variant, in its own process.

Thread pools and oneDNN are fixed when TensorFlow starts, so each variant runs as a fresh
process (``python -m bench.trainbench --variant NAME``); :func:`bench.perf` runs them all.
The loop is the one ``training/train.py`` runs (same network, loss weights, Adam, batch 32,
``jit_compile=False``, batches drawn by ``training.dataset.epoch_batches``), without
validation; no variant changes the network or the batches it sees.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.repo import REPO_ROOT, run_module

DEFAULT_CACHE = REPO_ROOT / "data" / "cache" / "bundle"
DEFAULT_SPLIT = REPO_ROOT / "data" / "runs" / "bundle" / "split.json"


@dataclass(frozen=True)
class Variant:
    """A way to run the same training loop."""

    description: str
    intra: int = 0  # TensorFlow intra-op threads; 0 = TensorFlow's default
    inter: int = 0  # TensorFlow inter-op threads; 0 = TensorFlow's default
    steps_per_execution: int = 1
    pipeline: str = "generator"  # generator: Dataset.from_generator + prefetch; tensors: from_tensor_slices
    jit_compile: bool = False
    env: dict[str, str] = field(default_factory=dict)
    keras_batch_norm: bool = False  # Keras' own BatchNormalization instead of the fused one


VARIANTS: dict[str, Variant] = {
    "baseline": Variant("as training/train.py: from_generator + prefetch, TF default threads"),
    "intra2-inter1": Variant("intra-op 2, inter-op 1 threads", intra=2, inter=1),
    "intra2-inter2": Variant("intra-op 2, inter-op 2 threads", intra=2, inter=2),
    "intra1-inter2": Variant("intra-op 1, inter-op 2 threads", intra=1, inter=2),
    "spe8": Variant("steps_per_execution=8", steps_per_execution=8),
    "tensors": Variant(
        "epoch batches as in-memory tensors (from_tensor_slices) + prefetch", pipeline="tensors"
    ),
    "onednn-off": Variant("TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels)", env={"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "xla": Variant("jit_compile=True (XLA)", jit_compile=True),
    "keras-bn": Variant(
        "Keras 3's own BatchNormalization training step (separate ops) instead of the fused kernel",
        keras_batch_norm=True,
    ),
    "combined": Variant(
        "intra-op 2, inter-op 1, steps_per_execution=8, from_tensor_slices",
        intra=2,
        inter=1,
        steps_per_execution=8,
        pipeline="tensors",
    ),
}


@dataclass(frozen=True)
class TrainSpeed:
    variant: str
    description: str
    segments_per_s: list[float]  # one per timed epoch (the first, tracing, epoch excluded)
    warmup_segments_per_s: float
    batch_size: int
    steps_per_epoch: int

    @property
    def median(self) -> float:
        ordered = sorted(self.segments_per_s)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def flops_per_segment(n_classes: dict[str, int]) -> tuple[float, float]:
    """Multiply-add FLOPs (2 per MAC) of one segment: (forward, forward + backward).

    Backward costs two forward passes per Conv2D/Dense layer (input and weight gradients),
    except the first layer, whose input needs no gradient.
    """
    from training.model import build_model

    model = build_model(n_classes)
    forward = 0.0
    first_layer = 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            cost = 2.0 * h * w * c_out * kh * kw * c_in
        elif kind == "Dense":
            c_in, c_out = layer.kernel.shape
            cost = 2.0 * c_in * c_out
        else:
            continue
        first_layer = first_layer or cost
        forward += cost
    return forward, 3 * forward - first_layer


def use_keras_batch_norm() -> None:
    """Train with Keras 3's own BatchNormalization step, as the network did before the fused layer."""
    import keras

    from training.backbones.layers import FusedBatchNormalization

    FusedBatchNormalization.call = keras.layers.BatchNormalization.call  # type: ignore[method-assign]


def run_variant(
    name: str, *, cache_dir: Path, split_file: Path, steps: int, epochs: int, profile_dir: Path | None = None
) -> TrainSpeed:
    variant = VARIANTS[name]
    os.environ.update(variant.env)
    import keras
    import tensorflow as tf

    from frontend.audio import N_MELS, SEGMENT_FRAMES
    from training.config import TrainConfig
    from training.dataset import SongMels, epoch_batches, label_space
    from training.model import build_model
    from training.prepare import read_index
    from training.split import read_split
    from training.train import compile_for_training

    if variant.keras_batch_norm:
        use_keras_batch_norm()
    if variant.intra:
        tf.config.threading.set_intra_op_parallelism_threads(variant.intra)
    if variant.inter:
        tf.config.threading.set_inter_op_parallelism_threads(variant.inter)
    config = TrainConfig(segments_per_song=8)
    songs = read_index(cache_dir)
    assignment = read_split(split_file)
    train_songs = [s for s in songs if assignment.get(s.song_id) == "train"]
    space = label_space(songs, config.tasks)
    n_classes = {t: len(v) for t, v in space.items()}
    keras.utils.set_random_seed(config.seed)
    mels = SongMels.load(cache_dir, train_songs, space)

    def batches() -> Any:
        return epoch_batches(
            mels,
            hop_frames=config.hop_frames,
            per_song=config.segments_per_song,
            batch_size=config.batch_size,
            seed=config.seed,
        )

    if variant.pipeline == "tensors":
        needed = steps * epochs
        source = batches()
        drawn = [next(source) for _ in range(needed)]
        drawn = [b for b in drawn if b[0].shape[0] == config.batch_size]  # keep whole batches only
        x = np.concatenate([b[0] for b in drawn])
        y = {t: np.concatenate([b[1][t] for b in drawn]) for t in config.tasks}
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(config.batch_size).repeat()
    else:
        signature = (
            tf.TensorSpec((None, SEGMENT_FRAMES, N_MELS, 1), tf.float32),
            {t: tf.TensorSpec((None,), tf.int64) for t in config.tasks},
        )
        dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)

    model = build_model(n_classes)
    compile_for_training(
        model,
        config,
        n_classes,
        jit_compile=variant.jit_compile,
        steps_per_execution=variant.steps_per_execution,
    )

    class Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._t0 = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.seconds.append(time.perf_counter() - self._t0)

    class Profile(keras.callbacks.Callback):
        """TensorFlow's own profiler over every epoch after the first (tracing) one."""

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch == 1 and profile_dir is not None:
                tf.profiler.experimental.start(str(profile_dir))

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            if profile_dir is not None and epochs > 1:
                tf.profiler.experimental.stop()

    timer = Timer()
    callbacks = [timer, Profile()]
    model.fit(dataset, steps_per_epoch=steps, epochs=epochs, verbose=0, callbacks=callbacks)
    rates = [steps * config.batch_size / s for s in timer.seconds]
    return TrainSpeed(
        variant=name,
        description=variant.description,
        segments_per_s=rates[1:],
        warmup_segments_per_s=rates[0],
        batch_size=config.batch_size,
        steps_per_epoch=steps,
    )


def run_in_child(
    variant: str,
    *,
    cache_dir: Path,
    split_file: Path,
    steps: int,
    epochs: int,
    json_path: Path,
    profile_dir: Path | None = None,
) -> None:
    """``python -m bench.trainbench`` for one variant in a fresh process; its result goes to ``json_path``.

    ``profile_dir``: where TensorFlow's profiler writes its log (none when None).
    Raises RuntimeError when the process fails, subprocess.TimeoutExpired when it hangs.
    """
    args = ["bench.trainbench", "--variant", variant, "--cache", str(cache_dir), "--split", str(split_file)]
    args += ["--steps", str(steps), "--epochs", str(epochs)]
    if profile_dir is not None:
        args += ["--profile", str(profile_dir)]
    run_module([*args, "--json", str(json_path)])


def flops_in_child(model_dir: Path) -> dict[str, float]:
    """FLOPs per segment, ``{"forward": ..., "train": ...}``, counted in a fresh process for the
    classes of the model in ``model_dir`` (TensorFlow stays out of the calling process)."""
    args = ["bench.trainbench", "--variant", "baseline", "--flops", "--model-dir", str(model_dir)]
    counted: dict[str, float] = json.loads(run_module(args))
    return counted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    parser.add_argument("--steps", type=int, default=16, help="steps per epoch (a multiple of 8)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs; the first is warm-up")
    parser.add_argument("--json", type=Path, default=None, help="write the result here (else stdout)")
    parser.add_argument("--flops", action="store_true", help="print FLOPs per segment and exit")
    parser.add_argument(
        "--model-dir", type=Path, default=REPO_ROOT / "models", help="for --flops: the classes"
    )
    parser.add_argument("--profile", type=Path, default=None, help="TensorFlow profiler log folder")
    args = parser.parse_args(argv)
    if args.flops:
        from frontend.artifact import load_artifact

        labels = load_artifact(args.model_dir).labels
        forward, train = flops_per_segment({task: len(names) for task, names in labels.items()})
        print(json.dumps({"forward": forward, "train": train}))
        return 0
    result = run_variant(
        args.variant,
        cache_dir=args.cache,
        split_file=args.split,
        steps=args.steps,
        epochs=args.epochs,
        profile_dir=args.profile,
    )
    text = json.dumps({**asdict(result), "median": result.median})
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
