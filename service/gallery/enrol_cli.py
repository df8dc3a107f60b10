"""songid-enrol: enrol artists in bulk into a gallery, or re-embed them for a new model.

    songid-enrol catalogue/ --gallery gallery.sqlite          # <artist id>/<song files>
    songid-enrol artists.csv --database-url postgresql://...  # columns path,artist[,name]
    songid-enrol --reembed --gallery gallery.sqlite           # stale artists, from their files
    songid-enrol catalogue/                                   # the service's gallery (its settings)

Without --gallery or --database-url, the gallery is the service's: SONGID_DATABASE_URL, else
SONGID_GALLERY_PATH, read as the service reads them (service.settings.Settings).

Each file goes through the serving pipeline (as POST /artists does) with the model given; a file
already enrolled for its artist (same bytes) is skipped, so an interrupted run resumes where it
stopped. A file that cannot be enrolled (not audio, no evidence) is reported and skipped; the
artist's other files are still enrolled. Each song keeps its absolute path as its reference, so
``--reembed`` can later embed it again with another model version.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from tqdm import tqdm

from service.audio_files import audio_files
from service.domain_errors import DomainError, ServiceError
from service.gallery.enrolment import embed_songs, file_sha256
from service.gallery.gallery import Gallery, open_gallery
from service.gallery.records import ID_PATTERN
from service.limits import DEFAULT_LIMITS
from service.model import ModelLoadError, SongModel
from service.pipeline import Pipeline
from service.settings import offline_gallery_url


def read_source(source: Path) -> dict[str, tuple[str, list[Path]]]:
    """``{artist id: (name, files)}`` from a folder of artist folders or a CSV manifest."""
    artists: dict[str, tuple[str, list[Path]]] = {}
    if source.is_dir():
        for folder in sorted(p for p in source.iterdir() if p.is_dir()):
            files = audio_files(folder)
            if files:
                artists[folder.name] = (folder.name, files)
    elif source.suffix.lower() == ".csv":
        with source.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not {"path", "artist"} <= set(reader.fieldnames or []):
                raise ValueError(f"{source}: needs columns path,artist[,name]; found {reader.fieldnames}")
            for line, row in enumerate(reader, start=2):
                artist, path = (row.get("artist") or "").strip(), (row.get("path") or "").strip()
                if not artist or not path:
                    raise ValueError(f"{source}:{line}: empty path or artist")
                name = (row.get("name") or "").strip() or artist
                artists.setdefault(artist, (name, []))[1].append(source.parent / path)
    else:
        raise ValueError(f"{source}: expected a folder of <artist>/<songs> or a .csv manifest")
    if not artists:
        raise ValueError(f"{source}: no audio files found")
    return artists


def enrol_all(
    gallery: Gallery, pipeline: Pipeline, artists: dict[str, tuple[str, list[Path]]], *, progress: bool
) -> list[str]:
    """Enrol every file not yet enrolled; returns the lines of the summary (failures named)."""
    added = skipped = 0
    failures: list[str] = []
    total = sum(len(files) for _, files in artists.values())
    with tqdm(total=total, desc="enrol", unit="song", disable=not progress) as bar:
        for artist_id, (name, files) in artists.items():
            if not re.match(ID_PATTERN, artist_id) or gallery.is_trained(artist_id):
                failures.append(f"{artist_id!r}: not a usable id (pattern {ID_PATTERN}, or a trained artist)")
                bar.update(len(files))
                continue
            known = gallery.song_hashes(artist_id)
            for path in files:
                bar.update(1)
                try:
                    with path.open("rb") as f:
                        if file_sha256(f) in known:
                            skipped += 1
                            continue
                        songs = embed_songs(pipeline, [(str(path), f, str(path.resolve()))])
                except (ServiceError, OSError) as e:
                    failures.append(f"{path}: {getattr(e, 'message', e)}")
                    continue
                if known:
                    gallery.add_songs(artist_id, songs)
                else:
                    gallery.enrol(artist_id, name, songs)
                known.add(songs[0].sha256)
                added += 1
    head = f"{len(artists)} artists, {total} files: {added} enrolled, {skipped} already enrolled"
    return [f"{head}, {len(failures)} failed", *(f"  failed: {line}" for line in failures)]


def reembed_all(gallery: Gallery, pipeline: Pipeline) -> list[str]:
    """Embed every stale artist's songs again from their references, with the served model."""
    lines, done = [], 0
    for artist_id, references in gallery.stale_artists():
        missing = [r for r in references if not r or not Path(r).is_file()]
        if missing:
            lines.append(
                f"  kept stale: {artist_id!r}: {len(missing)} of {len(references)} songs have no file"
            )
            continue
        try:
            with ExitStack() as stack:
                files = [(r, stack.enter_context(Path(r).open("rb")), r) for r in references if r]
                songs = embed_songs(pipeline, files)
        except ServiceError as e:
            lines.append(f"  kept stale: {artist_id!r}: {e.message}")
            continue
        gallery.reembed(artist_id, songs)
        done += 1
    return [f"re-embedded {done} artists with {gallery.model}; {len(lines)} kept stale", *lines]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="songid-enrol", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "source", type=Path, nargs="?", help="folder of <artist>/<songs>, or CSV path,artist[,name]"
    )
    parser.add_argument("--reembed", action="store_true", help="re-embed stale artists instead of enrolling")
    parser.add_argument("--model", type=Path, default=Path("models"), help="model folder, or one holding one")
    parser.add_argument("--gallery", type=Path, default=None, help="SQLite gallery file")
    parser.add_argument(
        "--database-url",
        default=None,
        help="the gallery's URL, sqlite:///<file> or postgresql://... (default: the service's settings)",
    )
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (args.source is None) != args.reembed:
        print("songid-enrol: error: give a source to enrol, or --reembed", file=sys.stderr)
        return 2
    try:
        url = offline_gallery_url(args.database_url, args.gallery)
        model = SongModel(args.model, provider="cpu")
        model.load()
        gallery, why_not = open_gallery(model.artifact, url=url, poll_s=3600.0, threshold=None)
        if gallery is None:
            raise ValueError(f"no artist gallery: {why_not}")
        if gallery.problem is not None:
            raise ValueError(gallery.problem)
        pipeline = Pipeline(model, DEFAULT_LIMITS)
        if args.reembed:
            lines = reembed_all(gallery, pipeline)
        else:
            lines = enrol_all(gallery, pipeline, read_source(args.source), progress=not args.no_progress)
        gallery.close()
    except ModelLoadError as e:
        print(f"songid-enrol: cannot load the model: {e}", file=sys.stderr)
        return 1
    except (ValueError, OSError, DomainError) as e:
        print(f"songid-enrol: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("songid-enrol: interrupted; what was enrolled is kept: run again to resume", file=sys.stderr)
        return 130
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
