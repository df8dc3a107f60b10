"""``python -m service.healthcheck``: exit 0 when the local server answers /healthz (container probe)."""

from __future__ import annotations

import sys
import urllib.request

from service.settings import Settings

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # bind-all addresses, probed on loopback


def main(timeout_s: float = 3.0) -> int:
    settings = Settings()
    host = "127.0.0.1" if settings.host in WILDCARD_HOSTS else settings.host
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 0 if response.status == 200 else 1
    except OSError as e:
        print(f"healthcheck: {url}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
