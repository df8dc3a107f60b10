"""``songid``, the training package's command line: every subcommand is listed in :mod:`training.cli.main`."""
