"""A throw-away PostgreSQL server for the tests, from the Debian ``postgresql`` package.

``initdb`` in a temporary folder, a free loopback port, socket and data in that folder; run as
the unprivileged ``postgres`` user when the tests run as root (PostgreSQL refuses root). Stopped
(``pg_ctl stop -m fast``) and removed afterwards. ``.ci/run`` installs the package where missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UNPRIVILEGED_USER = "postgres"


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``; raises naming the package when absent."""
    found = shutil.which("pg_config")
    if found:
        bindir = Path(
            subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        if (bindir / "initdb").is_file():
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if candidates:
        return candidates[-1].parent
    raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (scripts/test does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A server in its own folder that can be stopped and started again on the same port and data
    (an outage, then the database's return)."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="songid-pg-"))
        self.data, self.port = self.root / "data", _free_port()
        self.url = f"postgresql://songid@127.0.0.1:{self.port}/postgres"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", UNPRIVILEGED_USER, "--"]
        self._run("initdb", "-D", str(self.data), "-U", "songid", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run([*self._prefix, str(self.bindir / tool), *args], check=check, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self, *, check: bool = True) -> None:
        """A fast shutdown: open connections are closed by the server."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=check)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yields its URL (``postgresql://songid@127.0.0.1:<port>/postgres``)."""
    server = PostgresServer()
    try:
        server.start()
        try:
            yield server.url
        finally:
            server.stop(check=False)
    finally:
        server.remove()


def fresh_database(url: str) -> str:
    """A new, empty database on the server at ``url``; returns its URL."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"
