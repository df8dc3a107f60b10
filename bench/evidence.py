"""The "no evidence" detector (frontend.evidence) against real audio and a synthetic corpus.

    python -m bench.evidence                      # data/benchmarks/*/manifest.csv and outsiders.csv
    python -m bench.evidence some/manifest.csv --max-files 20

Every file of each manifest is decoded with the front end (``load_audio``, ``log_mel``) and
assessed; real music and speech must all have evidence. The synthetic corpus (noise at several
levels and rates, silence, DC, sines, clicks, a truncated file, ...) is written with soundfile
and decoded through the same path; every item must have none, for its expected reason. Prints a
Markdown table per set: files, how many were judged no evidence, the value closest to each
threshold, and the detector's time per minute of audio. No network; bounded by the files given.
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.machine import machine_lines
from bench.repo import REPO_ROOT
from frontend import evidence
from frontend.audio import HOP_LENGTH, AudioDecodeError, load_audio, log_mel
from frontend.audio import SAMPLE_RATE as SR
from frontend.evidence import Evidence, assess
from training.signals import Item, encode, no_evidence_corpus, synthetic_track

BENCHMARKS = REPO_ROOT / "data" / "benchmarks"
EXCERPT_S = (2.0, 3.0, 5.0, 10.0, 30.0)  # lengths of the excerpts cut from each real file
EXCERPTS_PER_FILE = 3
ESPEAK_TEXTS = (
    ("en", "Please leave a message after the tone. We will call you back as soon as we can. Thank you."),
    ("fr", "Bonjour, vous êtes bien sur le répondeur. Laissez un message après le bip sonore, merci."),
)


_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (660, 1720, 2410))


def synthetic_speech(seconds: float = 10.0, rate: int = SR, seed: int = 0) -> np.ndarray:
    """Speech-like audio, float32 at -10 dBFS peak: voiced syllables (harmonics of a gliding pitch
    shaped by the formants of a vowel, a syllable envelope), fricative hiss and short pauses."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    pos = int(0.2 * rate)
    while pos < out.size:
        t = np.arange(min(int(rng.uniform(0.12, 0.3) * rate), out.size - pos)) / rate
        f0 = rng.uniform(100, 180) * (
            1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 6))
        )
        phase = 2 * np.pi * np.cumsum(f0) / rate
        formants = _VOWELS[rng.integers(len(_VOWELS))]
        voiced = np.zeros(t.size)
        for k in range(1, int(4000 / f0.max())):
            gain = sum(1 / (1 + ((k * f0 - fc) / (60 + 0.08 * fc)) ** 2) for fc in formants)
            voiced += gain / np.sqrt(k) * np.sin(k * phase)
        out[pos : pos + t.size] += voiced * np.sin(np.pi * np.arange(t.size) / max(t.size, 1)) ** 0.7
        pos += t.size
        if rng.random() < 0.4 and pos < out.size:  # a fricative: noise above 3 kHz
            m = min(int(rng.uniform(0.05, 0.12) * rate), out.size - pos)
            hiss = np.fft.rfft(rng.standard_normal(m))
            hiss[np.fft.rfftfreq(m, 1 / rate) < 3000] = 0
            out[pos : pos + m] += 0.3 * np.fft.irfft(hiss, m)
            pos += m
        pos += int(rng.choice([0.02, 0.05, 0.3], p=[0.6, 0.3, 0.1]) * rate)
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def espeak(text: str, voice: str) -> bytes | None:
    """A WAV of ``text`` spoken by espeak-ng, or None when espeak-ng is not installed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-w", str(out), text], check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def evidence_corpus() -> Iterator[Item]:
    """Synthetic inputs that must have evidence: music-like tracks, speech-like audio, espeak-ng."""
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in (30.0, 4.0):
            path = synthetic_track(Path(tmp) / f"{seconds}.flac", seconds=seconds, rate=44_100)
            yield Item(f"synthetic_track {seconds:.0f} s @44100", "", path.read_bytes())
    for seed in range(3):
        yield Item(f"synthetic speech {seed} @16000", "", encode(synthetic_speech(20.0, seed=seed), SR))
    yield Item("synthetic speech 4 s @8000", "", encode(synthetic_speech(4.0, rate=8_000), 8_000))
    for voice, text in ESPEAK_TEXTS:
        data = espeak(text, voice)
        if data is not None:
            yield Item(f"espeak-ng {voice}", "", data)


@dataclass(frozen=True)
class Measured:
    name: str
    expected: str  # "" for evidence
    verdict: Evidence
    assess_s: float  # the best of three calls to assess, seconds


def timed_assess(mel: np.ndarray, duration_s: float) -> tuple[Evidence, float]:
    """The verdict and the best of three timings of :func:`assess` (seconds)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        verdict = assess(mel, duration_s=duration_s)
        best = min(best, time.perf_counter() - start)
    return verdict, best


def measure(
    name: str, expected: str, source: bytes | Path, *, max_duration_s: float | None
) -> tuple[Measured, np.ndarray]:
    """Decode ``source`` with the front end and assess it; also returns the log-mel."""
    samples = load_audio(source, max_duration_s=max_duration_s)
    mel = log_mel(samples)
    verdict, seconds = timed_assess(mel, samples.shape[0] / SR)
    return Measured(name, expected, verdict, seconds), mel


def excerpt_verdicts(
    mel: np.ndarray, duration_s: float, rng: np.random.Generator
) -> Iterator[tuple[float, Evidence]]:
    """:data:`EXCERPTS_PER_FILE` random excerpts of each length in :data:`EXCERPT_S` that fits,
    cut from the whole-signal log-mel (edges differ from a separately decoded clip by a frame)."""
    for seconds in EXCERPT_S:
        n = 1 + round(seconds * SR) // HOP_LENGTH
        if seconds > duration_s or n > mel.shape[0]:
            continue
        for start in rng.integers(0, mel.shape[0] - n + 1, size=EXCERPTS_PER_FILE):
            yield seconds, assess(mel[start : start + n], duration_s=seconds)


def judged_right(m: Measured) -> bool:
    """Evidence where none is expected to be missing, else the expected reason among the reasons."""
    return m.expected in m.verdict.reasons if m.expected else m.verdict.present


def manifest_files(path: Path) -> list[Path]:
    with path.open(newline="", encoding="utf-8") as f:
        return [path.parent / row["path"] for row in csv.DictReader(f)]


def default_manifests() -> list[Path]:
    names = ("manifest.csv", "outsiders.csv")
    return [p for d in sorted(BENCHMARKS.glob("*")) for p in (d / n for n in names) if p.is_file()]


def _pick(values: Sequence[float], pick: Callable[[Sequence[float]], float], digits: int) -> str:
    finite = [v for v in values if not math.isnan(v)]
    return f"{pick(finite):.{digits}f}" if finite else "–"


def _reasons(verdicts: Sequence[Evidence]) -> str:
    counts = Counter(r for v in verdicts for r in v.reasons)
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "–"


def set_lines(sets: dict[str, list[Measured]]) -> list[str]:
    lines = [
        "| set | files | minutes | no evidence | reasons | min sustained s | min variation "
        "| max variation | peak jitter | assess ms per min of audio |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for name, rows in sets.items():
        verdicts = [m.verdict for m in rows]
        minutes = sum(v.duration_s for v in verdicts) / 60
        variation = [v.variation for v in verdicts]
        jitter = [v.peak_jitter for v in verdicts]
        lines.append(
            f"| {name} | {len(rows)} | {minutes:.1f} | {sum(not v.present for v in verdicts)} "
            f"| {_reasons(verdicts)} | {min((v.sustained_s for v in verdicts), default=math.nan):.2f} "
            f"| {_pick(variation, min, 3)} | {_pick(variation, max, 3)} "
            f"| {_pick(jitter, min, 3)} – {_pick(jitter, max, 3)} "
            f"| {1000 * sum(m.assess_s for m in rows) / max(minutes, 1e-9):.2f} |"
        )
    return lines


def margin_lines(groups: Mapping[str, Sequence[Evidence]], corpus: Sequence[Measured]) -> list[str]:
    """How far the values closest to each threshold are from it."""
    lines = []
    for name, verdicts in groups.items():
        if verdicts:
            sustained = min(v.sustained_s for v in verdicts)
            variation = min(v.variation for v in verdicts)
            lines.append(
                f"- {name}: sustained sound at least {sustained:.2f} s "
                f"({sustained / evidence.MIN_AUDIBLE_S:.1f} x min_audible_s), variation at least "
                f"{variation:.3f} bel ({variation / evidence.MIN_VARIATION:.2f} x min_variation)"
            )
    steady = [m.verdict for m in corpus if m.verdict.sustained_s >= evidence.MIN_AUDIBLE_S]
    if steady:
        top = max(v.variation for v in steady)
        lines.append(
            f"- corpus with sustained sound (noise, tones, DC): variation at most {top:.3f} bel "
            f"(min_variation / {evidence.MIN_VARIATION / top:.2f})"
        )
    quiet = [m.verdict for m in corpus if m.verdict.reasons and m.verdict.reasons[0] in ("silence", "clicks")]
    if quiet:
        most = max(v.sustained_s for v in quiet)
        lines.append(
            f"- corpus of silence and clicks: sustained sound at most {most:.2f} s; "
            f"silent inputs peak at {max(v.max_level for v in quiet if not v.audible_s):.2f} bel "
            f"(silence_floor {evidence.SILENCE_FLOOR})"
        )
    return lines


def excerpt_lines(excerpts: dict[str, list[tuple[float, Evidence]]]) -> list[str]:
    lines = [
        "| set | excerpt s | excerpts | no evidence | share | reasons |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, rows in excerpts.items():
        for seconds in EXCERPT_S:
            verdicts = [v for s, v in rows if s == seconds]
            if verdicts:
                bad = sum(not v.present for v in verdicts)
                lines.append(
                    f"| {name} | {seconds:g} | {len(verdicts)} | {bad} | {100 * bad / len(verdicts):.1f} % "
                    f"| {_reasons(verdicts)} |"
                )
    return lines


def corpus_lines(rows: Sequence[Measured]) -> list[str]:
    lines = [
        "| input | expected | verdict | max level | audible s | sustained s | variation | peak jitter |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        v = m.verdict
        lines.append(
            f"| {m.name} | {m.expected or 'evidence'} | {', '.join(v.reasons) or 'evidence'} "
            f"| {v.max_level:.2f} | {v.audible_s:.2f} | {v.sustained_s:.2f} | {v.variation:.3f} "
            f"| {v.peak_jitter:.3f} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path, help="manifest CSVs (default: the benchmarks')")
    parser.add_argument("--max-files", type=int, default=0, help="files per manifest, 0 for all")
    parser.add_argument("--max-duration-s", type=float, default=600.0, help="seconds decoded per file")
    parser.add_argument("--corpus-seconds", type=float, default=30.0, help="length of each corpus item")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    sets: dict[str, list[Measured]] = {}
    excerpts: dict[str, list[tuple[float, Evidence]]] = {}
    failures: list[str] = []
    for manifest in args.manifests or default_manifests():
        label = f"{manifest.parent.name}/{manifest.name}"
        rows, cuts = sets.setdefault(label, []), excerpts.setdefault(label, [])
        for path in manifest_files(manifest)[: args.max_files or None]:
            try:
                m, mel = measure(str(path), "", path, max_duration_s=args.max_duration_s)
            except (AudioDecodeError, OSError) as e:
                failures.append(f"{path}: {e}")
                continue
            rows.append(m)
            cuts += excerpt_verdicts(mel, m.verdict.duration_s, rng)
            if not m.verdict.present:
                failures.append(f"{path}: judged no evidence: {m.verdict.describe()}")
    real = [m.verdict for rows in sets.values() for m in rows]
    no_corpus = no_evidence_corpus(args.corpus_seconds)
    corpus = [measure(i.name, i.expected, i.data, max_duration_s=None)[0] for i in no_corpus]
    positives = [measure(i.name, "", i.data, max_duration_s=None)[0] for i in evidence_corpus()]
    sets["synthetic no-evidence corpus"] = corpus
    sets["synthetic music and speech"] = positives
    failures += [
        f"{m.name}: expected {m.expected or 'evidence'}, got {m.verdict.describe()}"
        for m in corpus + positives
        if not judged_right(m)
    ]

    print("# The no-evidence detector (frontend.evidence)\n")
    print(
        f"Defaults: min_audible_s {evidence.MIN_AUDIBLE_S}, silence_floor {evidence.SILENCE_FLOOR} bel, "
        f"min_run_s {evidence.MIN_RUN_S}, block_s {evidence.BLOCK_S}, "
        f"min_variation {evidence.MIN_VARIATION} bel, steady_jitter {evidence.STEADY_JITTER} bel.\n"
    )
    print("\n".join(set_lines(sets)))
    print("\n## Margins\n")
    groups = {"real audio": real, "synthetic music and speech": [m.verdict for m in positives]}
    print("\n".join(margin_lines(groups, corpus)))
    if any(excerpts.values()):
        print(f"\n## Excerpts of the real files ({EXCERPTS_PER_FILE} random ones per file and length)\n")
        print("\n".join(excerpt_lines(excerpts)))
    print("\n## The synthetic inputs\n")
    print("\n".join(corpus_lines(corpus + positives)))
    print("\n## Machine\n")
    print("\n".join(machine_lines()))
    long_songs = [
        m.assess_s * 1000 for rows in sets.values() for m in rows if 170 <= m.verdict.duration_s <= 190
    ]
    if long_songs:
        median = statistics.median(long_songs)
        print(f"- assess on the {len(long_songs)} files of 170-190 s: median {median:.2f} ms")
    if failures:
        print("\n## Failures\n")
        print("\n".join(f"- {f}" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
