"""The machine the benchmarks run on: its CPU, its library versions and its arithmetic speed."""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
import psutil

from bench.stats import median

LIBRARIES = (
    "numpy",
    "soundfile",
    "soxr",
    "librosa",
    "numba",
    "onnxruntime",
    "fastapi",
    "uvicorn",
    "httpx",
    "psutil",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
)


def _cpuinfo_field(name: str) -> str | None:
    """The value of the first ``name`` line of ``/proc/cpuinfo``; None where there is none."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1]
    return None


def cpu_model() -> str:
    model = _cpuinfo_field("model name")
    if model is not None:
        return model.strip()
    return platform.processor() or "unknown"


def cpu_flags() -> set[str]:
    flags = _cpuinfo_field("flags")
    return set(flags.split()) if flags is not None else set()


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = package_version(name)
    return found


def machine_lines() -> list[str]:
    """Markdown bullet lines describing the machine and the library versions."""
    memory_gib = psutil.virtual_memory().total / 2**30
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return [
        f"- CPU: {cpu_model()}; {psutil.cpu_count(logical=False)} physical cores, "
        f"{psutil.cpu_count(logical=True)} logical; {memory_gib:.1f} GiB RAM; no GPU used",
        f"- OS: {platform.system()} {platform.release()}; Python {platform.python_version()}",
        f"- Libraries: {versions}",
    ]


def peak_gflops() -> tuple[float, str]:
    """Theoretical float32 peak of this CPU from its clock and vector width (an estimate).

    Returns:
        the peak in GFLOP/s, and how it was worked out, in words.
    """
    flags = cpu_flags()
    lanes = 16 if "avx512f" in flags else 8 if "avx2" in flags else 4
    fma = 2 if "fma" in flags or "avx512f" in flags else 1
    per_cycle = 2 * lanes * fma  # two FMA pipes assumed, two FLOPs per FMA
    freq = psutil.cpu_freq()
    ghz = (freq.max or freq.current) / 1000 if freq else float("nan")
    cores = psutil.cpu_count(logical=False) or 1
    text = (
        f"{cores} cores x {ghz:.2f} GHz x {per_cycle} FLOP/cycle "
        f"({lanes} float32 lanes, {fma} FMA pipe(s) x 2 FLOP)"
    )
    return cores * ghz * per_cycle, text


def sgemm_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Measured float32 matrix-multiply speed on this machine (numpy's BLAS, all cores), in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - started)
    return 2 * size**3 / median(times) / 1e9
