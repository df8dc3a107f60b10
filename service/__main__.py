"""``songid-serve`` / ``python -m service``: load the model, then serve it with uvicorn."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from service.app import create_app, load_model
from service.logging import configure_logging
from service.model import ModelLoadError, SongModel
from service.server import serve
from service.settings import Settings

logger = logging.getLogger("service")


def _parser() -> argparse.ArgumentParser:
    """No options: settings come from the environment, listed by ``--help``."""
    prefix = Settings.model_config.get("env_prefix", "")
    variables = "\n".join(
        f"  {prefix}{name.upper()} (default: {field.get_default(call_default_factory=True)!r})"
        for name, field in Settings.model_fields.items()
    )
    return argparse.ArgumentParser(
        prog="songid-serve",
        description="Serve the song model over HTTP. Every setting is an environment variable "
        "(docs/service.md explains each one).",
        epilog=f"environment variables:\n{variables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service; returns (and exits with) 1 when the model cannot be loaded, 2 on bad settings
    (a PostgreSQL gallery without its driver among them)."""
    _parser().parse_args(argv)  # --help, and a clear error for options that do not exist
    try:
        settings = Settings()
    except ValidationError as e:
        problems = "\n".join(
            f"  SONGID_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors()
        )
        print(f"songid-serve: invalid configuration:\n{problems}", file=sys.stderr)
        return 2
    url = settings.gallery_url or ""
    if url.startswith(("postgres://", "postgresql://")) and importlib.util.find_spec("psycopg") is None:
        print(
            "songid-serve: SONGID_DATABASE_URL is a PostgreSQL URL but its driver is not installed: "
            "pip install 'songid[serve,postgres]' (scripts/serve does it)",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    model = SongModel.from_settings(settings)
    try:
        # Before the server starts, so a bad artifact ends the process with one clear line.
        load_model(model)
    except ModelLoadError as e:
        print(f"songid-serve: cannot load the model: {e}", file=sys.stderr)
        return 1
    app = create_app(settings, model=model)
    logger.info("starting server", extra={"fields": {"host": settings.host, "port": settings.port}})
    serve(
        app,
        host=settings.host,
        port=settings.port,
        header_timeout_s=settings.header_timeout_s,
        max_connections=settings.max_connections,
        keep_alive_s=settings.keep_alive_s,
        graceful_shutdown_s=int(settings.request_timeout_s) + 1,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
