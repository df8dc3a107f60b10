"""Which files a job tags: a folder searched recursively, or a manifest's path column."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.batch.sources import AUDIO_EXTENSIONS, list_inputs
from tests.service.batch.conftest import BROKEN, SONGS


def test_folder_is_searched_recursively_by_extension(catalog: Path) -> None:
    items = list_inputs(catalog)
    assert [item.key for item in items] == sorted([*SONGS, BROKEN])  # .FLAC counts, notes.txt does not
    for item in items:
        assert Path(item.location).is_absolute()
        assert Path(item.location) == (catalog / item.key).resolve()


def test_manifest_paths_are_relative_to_it_kept_in_order_and_deduplicated(tmp_path: Path) -> None:
    manifest = tmp_path / "lists" / "catalog.csv"
    manifest.parent.mkdir()
    manifest.write_text("artist,path\nx,b.wav\ny,sub/a.mp3\nz,b.wav\nw,/abs/c.flac\n", encoding="utf-8")
    items = list_inputs(manifest)
    assert [item.key for item in items] == ["b.wav", "sub/a.mp3", "/abs/c.flac"]
    assert items[1].location == str(manifest.parent / "sub" / "a.mp3")
    assert items[2].location == "/abs/c.flac"


def test_manifest_without_a_path_column_is_refused_naming_the_columns(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,artist\na.wav,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no 'path' column; found \['file', 'artist'\]"):
        list_inputs(manifest)


def test_manifest_with_an_empty_path_names_the_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path\na.wav\n\n  \nb.wav\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty 'path' on line\(s\) \[4\]"):
        list_inputs(manifest)


def test_other_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "song.wav").write_bytes(b"RIFF")
    with pytest.raises(ValueError, match=r"expected a folder of audio files or a \.csv manifest"):
        list_inputs(tmp_path / "song.wav")
    with pytest.raises(ValueError, match="expected a folder"):
        list_inputs(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no audio files found"):
        list_inputs(tmp_path / "empty")


def test_extensions_are_the_training_catalogs() -> None:
    from training.catalog import AUDIO_EXTENSIONS as TRAINING_EXTENSIONS

    assert AUDIO_EXTENSIONS == TRAINING_EXTENSIONS
