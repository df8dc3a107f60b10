"""``songid``: the training package's one command line.

The library (:mod:`training.cli.model`)
    ``prepare``         decode songs and cache their log-mels
    ``benchmark``       build real-audio benchmarks from Debian packages or public repositories
    ``split``           song-level train/val/test split, stratified, seeded
    ``train``           train one model into a run folder
    ``calibrate``       set a trained run's BatchNorm statistics at inference
    ``evaluate``        metrics, tables and plots of a run
    ``export``          ONNX + metadata model folder (``--calibrate-on``: its open-set rule, centroids)
The open set, the gallery and the language expert on an exported model (:mod:`training.cli.openset`)
    ``openset``         open-set scores: known songs against unknown ones (``--calibrate``: the rule)
    ``centroids``       the gallery's artist centroids (centroids.json)
    ``exposure-split``  half of a manifest of outsiders as a split's exposure part
    ``expert-calibrate`` list the language expert, its gate and open-set rule set on validation songs
Studies, resumable, each writing a report under reports/ (:mod:`training.cli.studies`)
    ``compare``         the paper's Table 1: baselines against multitask, over seeds
    ``reproduce``       Table 1 on a real-audio benchmark, end to end
    ``openset-study``   leave-artists-out: recipes x open-set scores
    ``enrolment-study`` enrolling held-out composers from k songs
    ``language-study``  unseen speakers, vocals against zxx, sung languages
    ``language-split``  the bundled model's songs: every benchmark cached, split and mixed
    ``language-card``   the model card's language section, from the language study
    ``language-expert-study`` the language expert gated by the network, on the language study's folds
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from training.cli.model import add_model_commands
from training.cli.openset import add_openset_commands
from training.cli.studies import add_study_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="songid", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    add_model_commands(sub)
    add_openset_commands(sub)
    add_study_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"songid {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
