"""The provenance document of an expert folder (``expert.json``): what it is and where it came from.

::

    {"schema": 1, "model": {name, role, format, licence, training_data, citation},
     "source": {"kind": "registry parts", "detail": "..."}, "fetched_at": "2026-...Z",
     "files": {"model.bin": {"sha256": "...", "bytes": 145217532}, ...}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.expert.identity import MODEL_CARD, PROVENANCE_FILE

SCHEMA = 1


def provenance_document(folder: Path, *, kind: str, detail: str, hashes: Mapping[str, str]) -> dict[str, Any]:
    """The document for the verified files of ``folder`` (``hashes``: name -> SHA-256) from ``kind``."""
    return {
        "schema": SCHEMA,
        "model": dict(MODEL_CARD),
        "source": {"kind": kind, "detail": detail},
        "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {
            name: {"sha256": digest, "bytes": (folder / name).stat().st_size}
            for name, digest in hashes.items()
        },
    }


def write_provenance(folder: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` as ``folder/expert.json``; returns its path."""
    path = folder / PROVENANCE_FILE
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The provenance document of ``folder``, or ``None`` when it has none or it is not a JSON object."""
    try:
        document = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None
