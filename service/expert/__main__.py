"""``python -m service.expert``: the same as ``songid-expert``."""

import sys

from service.expert.cli import main

if __name__ == "__main__":
    sys.exit(main())
