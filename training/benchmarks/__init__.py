"""Real-audio benchmarks built reproducibly from Debian packages.

``gamemusic``: composers of game soundtracks (artist task) and the soundtrack
(second task), no linguistic content. ``voices``: telephone-prompt voices nested in
five languages. Audio is converted to 16 kHz mono FLAC in a cache outside git,
with a ``manifest.csv`` per benchmark. Build from the command line with
``songid benchmark gamemusic voices`` or call
:func:`build_benchmark`.
"""

from training.benchmarks.build import BENCHMARKS, DEFAULT_CACHE, build_benchmark

__all__ = ["BENCHMARKS", "DEFAULT_CACHE", "build_benchmark"]
