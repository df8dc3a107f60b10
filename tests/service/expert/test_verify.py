"""An expert folder is accepted only with exactly the pinned bytes; each refusal names the file and hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.expert.identity import MODEL_PARTS, PARTS, PINNED, PROVENANCE_FILE
from service.expert.verify import ExpertIntegrityError, verify
from tests.service.expert.conftest import sha256


def test_the_pinned_files_verify(expert_files: Path, pins: dict[str, str]) -> None:
    assert verify(expert_files, pins=pins) == pins


def test_a_tampered_byte_is_refused_naming_the_file_and_both_hashes(
    expert_files: Path, pins: dict[str, str]
) -> None:
    data = bytearray((expert_files / "model.bin").read_bytes())
    data[3] ^= 1
    (expert_files / "model.bin").write_bytes(bytes(data))
    with pytest.raises(ExpertIntegrityError) as caught:
        verify(expert_files, pins=pins)
    message = str(caught.value)
    assert "model.bin" in message and pins["model.bin"] in message and sha256(bytes(data)) in message


def test_a_missing_file_is_refused_by_name(expert_files: Path, pins: dict[str, str]) -> None:
    (expert_files / "tokenizer.json").unlink()
    with pytest.raises(ExpertIntegrityError, match=r"tokenizer\.json missing"):
        verify(expert_files, pins=pins)


def test_a_file_faster_whisper_would_also_read_is_refused(expert_files: Path, pins: dict[str, str]) -> None:
    (expert_files / "preprocessor_config.json").write_text('{"n_mels": 128}')
    with pytest.raises(ExpertIntegrityError, match=r"preprocessor_config\.json"):
        verify(expert_files, pins=pins)


def test_the_provenance_document_may_sit_beside_the_files(expert_files: Path, pins: dict[str, str]) -> None:
    (expert_files / PROVENANCE_FILE).write_text("{}")
    assert verify(expert_files, pins=pins) == pins


def test_a_missing_folder_is_refused(tmp_path: Path, pins: dict[str, str]) -> None:
    with pytest.raises(ExpertIntegrityError, match="not a folder"):
        verify(tmp_path / "absent", pins=pins)


def test_the_pins_are_whisper_base_and_the_registry_parts_supply_every_pinned_file() -> None:
    assert PINNED["model.bin"] == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in PINNED.values())
    extracted = {name for dist in PARTS for name in dist.members.values()}
    assert (extracted - set(MODEL_PARTS)) | {"model.bin"} == set(PINNED)
    assert all(len(d.wheel_sha256) == 64 for d in PARTS)
