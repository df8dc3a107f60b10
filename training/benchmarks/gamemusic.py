"""Benchmark "gamemusic": composers of game soundtracks packaged in Debian.

artist = the composer (from tags, album files, descriptors or copyright files),
language = ``zxx`` (no linguistic content; empty, not labelled, for the soundtracks of
:data:`WITH_VOCALS`, whose mixes have someone singing), second task ``soundtrack`` = the package.
A composer is kept with at least :data:`MIN_TRACKS` tracks of at least
:data:`MIN_DURATION_S` seconds; co-composed tracks, uncredited tracks and the second
copy of byte-identical files are left out. Every candidate and the reason it was
kept or dropped is written to ``candidates.csv`` beside the manifest.

The long-enough tracks left out for their credit (composers with fewer tracks, uncredited,
co-composed) are real music by people the benchmark never names: they are converted too and
listed apart, in ``outsiders.csv`` (the manifest's columns plus ``status``; ``artist`` is empty
where the track is uncredited), for open-set tests and outlier exposure. No training reads it
unless asked to.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from frontend.audio import AudioDecodeError
from training.benchmarks.convert import ConvertJob, md5_file, prune_stale, run_jobs, source_duration
from training.benchmarks.debian import fetch_packages
from training.benchmarks.manifest import write_csv, write_manifest
from training.benchmarks.names import split_credit, unify_spellings
from training.benchmarks.soundtracks import SOUNDTRACKS, Candidate, Collector

log = logging.getLogger(__name__)

NAME: Final = "gamemusic"
LANGUAGE: Final = "zxx"  # ISO 639-2: no linguistic content
#: soundtracks with vocals in their mixes (Frets on Fire's muldjord songs: growled, in a language
#: nobody here has checked): their tracks carry no language label
WITH_VOCALS: Final = frozenset({"fretsonfire-songs-muldjord"})
MIN_DURATION_S: Final = 30.0
MIN_TRACKS: Final = 3
EXTRA_COLUMNS: Final = ("soundtrack", "duration_s", "source", "md5")
CANDIDATE_COLUMNS: Final = (
    "soundtrack",
    "source",
    "credit",
    "credit_source",
    "artist",
    "status",
    "group",
    "duration_s",
    "md5",
)

OK: Final = "ok"
OUTSIDE: Final = ("composer_lt3", "no_label", "collab")  # statuses of the outsiders (module docstring)
OUTSIDERS_FILE: Final = "outsiders.csv"


@dataclass(frozen=True)
class Track:
    """A candidate with the facts needed to decide on it."""

    candidate: Candidate
    md5: str  # of the main file (``candidate.source``)
    duration_s: float  # from the file headers; the longest stem for mixed songs

    @property
    def group(self) -> str:
        return f"{self.candidate.package}:{self.candidate.work}"


@dataclass(frozen=True)
class Decision:
    """What happens to a track: ``status`` is ``ok`` or the reason it is left out."""

    track: Track
    artist: str  # canonical composer, "" when there is none
    status: str  # ok | duplicate | no_label | collab | short | composer_lt3


def decide(
    tracks: Sequence[Track], *, min_duration_s: float = MIN_DURATION_S, min_tracks: int = MIN_TRACKS
) -> list[Decision]:
    """Label ``tracks`` and decide which are kept, in input order.

    Rules, in order: of byte-identical tracks (same md5) only the first credited
    copy (else the first) is kept, the others are ``duplicate``; no usable credit
    is ``no_label``; more than one credited person is ``collab``; shorter than
    ``min_duration_s`` is ``short``; a composer left with fewer than
    ``min_tracks`` tracks is ``composer_lt3``.
    """
    if min_tracks < 1:
        raise ValueError(f"min_tracks must be >= 1, got {min_tracks}")
    credits = [split_credit(t.candidate.credit) for t in tracks]
    keeper: dict[str, int] = {}  # md5 -> index of the copy kept: the first credited one, else the first
    for i, (track, names) in enumerate(zip(tracks, credits, strict=True)):
        if track.md5 not in keeper or (names and not credits[keeper[track.md5]]):
            keeper[track.md5] = i
    staged: list[tuple[Track, str, str]] = []
    for i, (track, names) in enumerate(zip(tracks, credits, strict=True)):
        artist = names[0] if len(names) == 1 else ""
        if keeper[track.md5] != i:
            status = "duplicate"
        elif not names:
            status = "no_label"
        elif len(names) > 1:
            status, artist = "collab", " & ".join(names)
        elif track.duration_s < min_duration_s:
            status = "short"
        else:
            status = OK
        staged.append((track, artist, status))
    spelling = unify_spellings([a for _, a, s in staged if a and s != "collab"])
    staged = [(t, spelling.get(a, a), s) for t, a, s in staged]
    counts = Counter(a for _, a, s in staged if s == OK)
    return [Decision(t, a, "composer_lt3" if s == OK and counts[a] < min_tracks else s) for t, a, s in staged]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "track"


def output_path(track: Track) -> Path:
    """Converted file, relative to the benchmark folder; the md5 prefix makes a changed source a new file."""
    return Path("audio") / track.candidate.package / f"{_safe(track.candidate.work)}.{track.md5[:10]}.flac"


def scan(roots: dict[str, Path], *, soundtracks: Mapping[str, Collector] = SOUNDTRACKS) -> list[Track]:
    """Collect the candidate tracks of every package of ``soundtracks`` found in ``roots``
    (package -> extracted tree), in the table's order."""
    tracks: list[Track] = []
    for package, collect in soundtracks.items():
        if package not in roots:
            continue
        candidates = collect(roots[package], package)
        log.info("%s: %d candidate tracks", package, len(candidates))
        for c in candidates:
            try:
                duration = max(source_duration(f) for f in c.files)
            except AudioDecodeError as e:
                log.warning("skipping unreadable %s/%s: %s", package, c.source, e)
                continue
            tracks.append(Track(c, md5_file(c.files[0]), duration))
    return tracks


def _row(
    decision: Decision, duration_s: float, with_vocals: frozenset[str] = WITH_VOCALS
) -> dict[str, str | float]:
    track = decision.track
    return {
        "path": output_path(track).as_posix(),
        "artist": decision.artist,
        "language": "" if track.candidate.package in with_vocals else LANGUAGE,
        "group": track.group,
        "soundtrack": track.candidate.package,
        "duration_s": duration_s,
        "source": track.candidate.source,
        "md5": track.md5,
    }


def build(
    *, cache_dir: Path, jobs: int = 2, min_duration_s: float = MIN_DURATION_S, min_tracks: int = MIN_TRACKS
) -> Path:
    """Download, label, convert and write ``<cache>/gamemusic/manifest.csv``; return its path.

    ``min_duration_s`` and ``min_tracks`` are the selection thresholds of :func:`decide`.
    """
    return build_soundtracks(
        SOUNDTRACKS,
        name=NAME,
        with_vocals=WITH_VOCALS,
        cache_dir=cache_dir,
        jobs=jobs,
        min_duration_s=min_duration_s,
        min_tracks=min_tracks,
    )


def build_soundtracks(
    soundtracks: Mapping[str, Collector],
    *,
    name: str,
    with_vocals: frozenset[str],
    cache_dir: Path,
    jobs: int = 2,
    min_duration_s: float = MIN_DURATION_S,
    min_tracks: int = MIN_TRACKS,
) -> Path:
    """Download the packages of ``soundtracks`` (package -> collector), label, convert and write
    ``<cache>/<name>/manifest.csv`` (with ``candidates.csv`` and ``outsiders.csv``); return its path.

    ``with_vocals`` are the packages whose tracks carry no language label; ``min_duration_s``
    and ``min_tracks`` are the selection thresholds of :func:`decide`.
    """
    roots = fetch_packages(list(soundtracks), cache_dir=cache_dir)
    out_dir = cache_dir / name
    decisions = decide(
        scan(roots, soundtracks=soundtracks), min_duration_s=min_duration_s, min_tracks=min_tracks
    )
    kept = [d for d in decisions if d.status == OK]
    outside = [d for d in decisions if d.status in OUTSIDE and d.track.duration_s >= min_duration_s]
    convert_jobs = [
        ConvertJob(inputs=d.track.candidate.files, output=out_dir / output_path(d.track), mode="mix")
        for d in (*kept, *outside)
    ]
    durations, failures = run_jobs(convert_jobs, workers=jobs, desc=f"{name} audio")
    prune_stale(out_dir / "audio", {j.output for j in convert_jobs})
    if failures:
        log.warning(
            "%d of %d tracks could not be converted and are left out", len(failures), len(convert_jobs)
        )
    write_csv(
        out_dir / "candidates.csv",
        CANDIDATE_COLUMNS,
        (
            {
                "soundtrack": d.track.candidate.package,
                "source": d.track.candidate.source,
                "credit": d.track.candidate.credit or "",
                "credit_source": d.track.candidate.credit_source,
                "artist": d.artist,
                "status": "convert_failed" if out_dir / output_path(d.track) in failures else d.status,
                "group": d.track.group,
                "duration_s": d.track.duration_s,
                "md5": d.track.md5,
            }
            for d in decisions
        ),
    )
    rows = [
        _row(d, durations[out_dir / output_path(d.track)], with_vocals)
        for d in kept
        if out_dir / output_path(d.track) in durations
    ]
    converted = Counter(str(r["artist"]) for r in rows)
    too_few = sorted(a for a, n in converted.items() if n < min_tracks)
    if too_few:  # only after conversion failures
        log.warning(
            "left with fewer than %d tracks after failed conversions, dropped: %s", min_tracks, too_few
        )
        rows = [r for r in rows if r["artist"] not in too_few]
    manifest = write_manifest(out_dir / "manifest.csv", EXTRA_COLUMNS, rows)
    outsiders = [
        {**_row(d, durations[out_dir / output_path(d.track)], with_vocals), "status": d.status}
        for d in outside
        if out_dir / output_path(d.track) in durations
    ]
    write_manifest(out_dir / OUTSIDERS_FILE, (*EXTRA_COLUMNS, "status"), outsiders)
    log.info("%s: %d outsiders (real music by people the benchmark leaves out)", name, len(outsiders))
    counts = Counter(d.status for d in decisions)
    log.info("%s: %s", name, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return manifest
