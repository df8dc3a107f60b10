"""The names the benchmarks share, in one import path: each is defined in the module of its concern.

- :mod:`bench.repo`: the repository root and running its modules (``REPO_ROOT``, ``run_module``);
- :mod:`bench.machine`: the machine's description (``machine_lines``, ``cpu_model``, ...);
- :mod:`bench.machine_load`: other work on the machine (``busy_processes``, ``LoadMonitor``, ...);
- :mod:`bench.track`: the test track (``Track``, ``pick_track``);
- :mod:`bench.server`: the real server in its own process (``Server``, ``SERVE_SCRIPT``);
- :mod:`bench.process_tree`: a process tree's memory and files (``tree_rss``, ``RssSampler``, ...);
- :mod:`bench.http_load`: requests and closed-loop load (``Upload``, ``Outcome``, ``post``, ...).

New code imports from those modules; this one keeps the older import path working.
"""

from __future__ import annotations

from bench.http_load import Outcome, Upload, closed_loop, post
from bench.machine import LIBRARIES, cpu_flags, cpu_model, library_versions, machine_lines
from bench.machine_load import LoadMonitor, busy_processes, training_processes, wait_until_quiet
from bench.process_tree import RssSampler, tree_fds, tree_rss, tree_total
from bench.repo import REPO_ROOT, run_module
from bench.server import SERVE_SCRIPT, Server, free_port
from bench.track import TRACKS_DIR, Track, pick_track
from training.signals import synthetic_track

__all__ = [
    "LIBRARIES",
    "REPO_ROOT",
    "SERVE_SCRIPT",
    "TRACKS_DIR",
    "LoadMonitor",
    "Outcome",
    "RssSampler",
    "Server",
    "Track",
    "Upload",
    "busy_processes",
    "closed_loop",
    "cpu_flags",
    "cpu_model",
    "free_port",
    "library_versions",
    "machine_lines",
    "pick_track",
    "post",
    "run_module",
    "synthetic_track",
    "training_processes",
    "tree_fds",
    "tree_rss",
    "tree_total",
    "wait_until_quiet",
]
