"""Benchmark "voices": telephone-prompt voices nested in languages (Asterisk prompt packages).

artist = the voice (one per package), language = its ISO 639-1 code. A voice's
prompts, sorted by path, are concatenated into ~60 s "songs" with short silences
between them; each song is its own split group. Languages with two voices (es, fr,
it) allow an unseen-voice protocol: train on one voice, test the language on the
other (see :func:`voices_by_language`). The prompts of every song are listed in
``prompts.csv`` beside the manifest.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from frontend.audio import AudioDecodeError
from training.benchmarks.convert import ConvertJob, md5_file, prune_stale, run_jobs, source_duration
from training.benchmarks.debian import fetch_packages
from training.benchmarks.manifest import write_csv, write_manifest

log = logging.getLogger(__name__)

NAME: Final = "voices"
EXTRA_COLUMNS: Final = ("voice", "duration_s", "n_prompts")
PROMPT_COLUMNS: Final = ("group", "voice", "source", "md5", "duration_s")
SONG_TARGET_S: Final = 60.0
GAP_S: Final = 0.3
AUDIO_SUFFIXES: Final = frozenset({".wav", ".gsm"})
#: prompt names that are tones, not speech
NON_SPEECH: Final = frozenset({"beep", "beeperr", "ascending-2tone", "descending-2tone"})
SOUNDS_DIR: Final = "usr/share/asterisk/sounds"


@dataclass(frozen=True)
class VoiceSpec:
    """A voice: the package holding its prompts, the voice label and its language."""

    package: str
    voice: str
    language: str  # ISO 639-1


#: The en and es core packages are the same speaker; they stay separate voices, as packaged.
VOICES: Final[tuple[VoiceSpec, ...]] = (
    VoiceSpec("asterisk-core-sounds-en-wav", "asterisk-core-en", "en"),
    VoiceSpec("asterisk-core-sounds-es-wav", "asterisk-core-es", "es"),
    VoiceSpec("asterisk-core-sounds-fr-wav", "asterisk-core-fr", "fr"),
    VoiceSpec("asterisk-core-sounds-it-wav", "asterisk-core-it", "it"),
    VoiceSpec("asterisk-core-sounds-ru-wav", "asterisk-core-ru", "ru"),
    VoiceSpec("asterisk-prompt-es-co", "asterisk-es-co", "es"),
    VoiceSpec("asterisk-prompt-fr-armelle", "asterisk-fr-armelle", "fr"),
    VoiceSpec("asterisk-prompt-it-menardi-wav", "asterisk-it-menardi", "it"),
)


def voices_by_language(specs: Sequence[VoiceSpec] = VOICES) -> dict[str, list[str]]:
    """language -> its voices; languages with two or more support the unseen-voice protocol."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        out.setdefault(spec.language, []).append(spec.voice)
    return out


@dataclass(frozen=True)
class Prompt:
    """One prompt file of a voice."""

    path: Path
    source: str  # path inside the package
    md5: str
    duration_s: float


def find_prompt_files(root: Path) -> list[Path]:
    """Speech prompt files under ``root``, sorted by path relative to it.

    Symbolic links (the packages link language folders into each other) are not
    followed; ``silence/`` fillers and tone files (:data:`NON_SPEECH`) are left out.
    """
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked dirs
        dirnames[:] = sorted(d for d in dirnames if d != "silence")
        for name in filenames:
            path = Path(dirpath) / name
            if (
                path.suffix.lower() in AUDIO_SUFFIXES
                and path.stem not in NON_SPEECH
                and not path.is_symlink()
            ):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


@dataclass(frozen=True)
class VoiceScan:
    """The usable prompts of one package and how many files were dropped, by reason."""

    prompts: list[Prompt]
    duplicates: int
    undecodable: int  # including files with a valid header but no audio


def scan_voice(root: Path) -> VoiceScan:
    """Prompts of the package extracted at ``root``: byte-identical copies and undecodable files dropped."""
    return scan_files(find_prompt_files(root), root)


def scan_files(paths: Sequence[Path], root: Path) -> VoiceScan:
    """Prompts from ``paths`` (under ``root``, in this order): byte-identical copies and undecodable
    files dropped."""
    prompts: list[Prompt] = []
    seen: set[str] = set()
    duplicates = undecodable = 0
    for path in paths:
        md5 = md5_file(path)
        if md5 in seen:
            duplicates += 1
            continue
        seen.add(md5)
        try:
            duration = source_duration(path, verify=True)
        except AudioDecodeError as e:
            undecodable += 1
            log.debug("skipping undecodable prompt %s: %s", path, e)
            continue
        if duration <= 0:
            undecodable += 1
            log.debug("skipping empty prompt %s", path)
            continue
        prompts.append(Prompt(path, path.relative_to(root).as_posix(), md5, duration))
    return VoiceScan(prompts, duplicates, undecodable)


def group_prompts(
    prompts: Sequence[Prompt], *, target_s: float = SONG_TARGET_S, gap_s: float = GAP_S
) -> list[list[Prompt]]:
    """Split consecutive prompts into songs of about ``target_s`` seconds (gaps included).

    A song is closed as soon as it reaches ``target_s``, or before a prompt that
    would overshoot the target by more than the song now falls short of it (once
    the song has half the target). A final remainder shorter than half the target
    is appended to the previous song instead of standing alone.
    """
    if target_s <= 0:
        raise ValueError(f"target_s must be > 0, got {target_s!r}")
    songs: list[list[Prompt]] = []
    current: list[Prompt] = []
    length = 0.0
    for prompt in prompts:
        longer = length + prompt.duration_s + (gap_s if current else 0.0)
        if current and length >= target_s / 2 and longer - target_s > target_s - length:
            songs.append(current)
            current, longer = [], prompt.duration_s
        current.append(prompt)
        length = longer
        if length >= target_s:
            songs.append(current)
            current, length = [], 0.0
    if current:
        if songs and length < target_s / 2:
            songs[-1].extend(current)
        else:
            songs.append(current)
    return songs


def song_output(voice: str, index: int, members: Sequence[Prompt], *, gap_s: float = GAP_S) -> Path:
    """Song file relative to the benchmark folder.

    The name carries a hash of the prompts and the gap, so a changed grouping is a new file.
    """
    key = "".join(p.md5 for p in members) + f"|gap={gap_s:g}"
    digest = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return Path("audio") / voice / f"song-{index:03d}.{digest[:10]}.flac"


def build(
    *,
    cache_dir: Path,
    jobs: int = 2,
    voices: Sequence[VoiceSpec] = VOICES,
    target_s: float = SONG_TARGET_S,
    gap_s: float = GAP_S,
) -> Path:
    """Download, group, convert and write ``<cache>/voices/manifest.csv``; return its path.

    ``target_s`` and ``gap_s`` are the song length and the silence between prompts.
    """
    roots = fetch_packages([v.package for v in voices], cache_dir=cache_dir)
    out_dir = cache_dir / NAME
    songs: list[tuple[VoiceSpec, str, Path, list[Prompt]]] = []
    for spec in voices:
        scanned = scan_voice(roots[spec.package])
        grouped = group_prompts(scanned.prompts, target_s=target_s, gap_s=gap_s)
        log.info(
            "%s: %d prompts (dropped: %d duplicates, %d undecodable or empty) -> %d songs",
            spec.voice,
            len(scanned.prompts),
            scanned.duplicates,
            scanned.undecodable,
            len(grouped),
        )
        if scanned.undecodable:
            log.warning(
                "%s: %d prompt files were empty or undecodable and were skipped",
                spec.voice,
                scanned.undecodable,
            )
        for i, members in enumerate(grouped):
            songs.append(
                (spec, f"{spec.voice}:{i:03d}", song_output(spec.voice, i, members, gap_s=gap_s), members)
            )
    rows = [
        Spoken(spec.voice, spec.voice, spec.language, group, rel, members)
        for spec, group, rel, members in songs
    ]
    return write_spoken(out_dir, rows, name=NAME, jobs=jobs, gap_s=gap_s)


@dataclass(frozen=True)
class Spoken:
    """One song of prompts to write: who speaks (``artist`` may be empty: not labelled), in what."""

    voice: str
    artist: str
    language: str
    group: str
    rel: Path  # the song file, relative to the benchmark folder
    members: list[Prompt]


def spoken_songs(
    voice: str,
    language: str,
    paths: Sequence[Path],
    root: Path,
    *,
    target_s: float = SONG_TARGET_S,
    gap_s: float = GAP_S,
    min_seconds: float = 0.0,
) -> list[Spoken]:
    """One voice's recordings (``paths`` under ``root``) as songs of about ``target_s`` seconds, its
    artist unlabelled; none when it has under ``min_seconds`` of speech."""
    scanned = scan_files(paths, root)
    seconds = sum(p.duration_s for p in scanned.prompts)
    if seconds < min_seconds:
        log.info("%s: %.0f s of speech, under %.0f s: left out", voice, seconds, min_seconds)
        return []
    grouped = group_prompts(scanned.prompts, target_s=target_s, gap_s=gap_s)
    log.info("%s: %d recordings, %.0f s -> %d songs", voice, len(scanned.prompts), seconds, len(grouped))
    return [
        Spoken(voice, "", language, f"{voice}:{i:03d}", song_output(voice, i, members, gap_s=gap_s), members)
        for i, members in enumerate(grouped)
    ]


def write_spoken(
    out_dir: Path, songs: Sequence[Spoken], *, name: str, jobs: int, gap_s: float = GAP_S
) -> Path:
    """Concatenate each song's prompts, write ``prompts.csv`` and ``manifest.csv``; return the manifest."""
    convert_jobs = [
        ConvertJob(
            inputs=tuple(p.path for p in s.members), output=out_dir / s.rel, mode="concat", gap_s=gap_s
        )
        for s in songs
    ]
    durations, failures = run_jobs(convert_jobs, workers=jobs, desc=f"{name} audio")
    prune_stale(out_dir / "audio", {j.output for j in convert_jobs})
    if failures:
        log.warning("%d of %d songs had an undecodable prompt and are left out", len(failures), len(songs))
    done = [s for s in songs if out_dir / s.rel in durations]
    write_csv(
        out_dir / "prompts.csv",
        PROMPT_COLUMNS,
        (
            {"group": s.group, "voice": s.voice, "source": p.source, "md5": p.md5, "duration_s": p.duration_s}
            for s in done
            for p in s.members
        ),
    )
    rows = [
        {
            "path": s.rel.as_posix(),
            "artist": s.artist,
            "language": s.language,
            "group": s.group,
            "voice": s.voice,
            "duration_s": durations[out_dir / s.rel],
            "n_prompts": len(s.members),
        }
        for s in done
    ]
    return write_manifest(out_dir / "manifest.csv", EXTRA_COLUMNS, rows)
