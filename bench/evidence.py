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
import statistics
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.evidence_corpus import evidence_corpus
from bench.evidence_measure import EXCERPTS_PER_FILE, Measured, excerpt_verdicts, judged_right, measure
from bench.evidence_tables import corpus_lines, excerpt_lines, margin_lines, set_lines
from bench.machine import machine_lines
from bench.repo import REPO_ROOT
from frontend import evidence
from frontend.audio import AudioDecodeError
from frontend.evidence import Evidence
from training.signals import no_evidence_corpus

BENCHMARKS = REPO_ROOT / "data" / "benchmarks"


def manifest_files(path: Path) -> list[Path]:
    with path.open(newline="", encoding="utf-8") as f:
        return [path.parent / row["path"] for row in csv.DictReader(f)]


def default_manifests() -> list[Path]:
    names = ("manifest.csv", "outsiders.csv")
    return [p for d in sorted(BENCHMARKS.glob("*")) for p in (d / n for n in names) if p.is_file()]


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
