"""songid-enrol: bulk enrolment with resume, a CSV manifest, and re-embedding for a new model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.gallery.enrol_cli import main
from service.gallery.store import open_store, sqlite_url
from tests.service.samples import encode, make_artifact


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_artifact(tmp_path / "models", embedding=True, centroids=True)
    for artist, freqs in (("ann", (300.0, 320.0)), ("bo", (500.0,))):
        (tmp_path / "catalogue" / artist).mkdir(parents=True)
        for f in freqs:
            (tmp_path / "catalogue" / artist / f"{f:.0f}.wav").write_bytes(encode("wav", seconds=5.0, freq=f))
    (tmp_path / "catalogue" / "bo" / "broken.wav").write_bytes(b"RIFF not really audio")
    return tmp_path


def _run(repo: Path, *args: str) -> int:
    return main(
        [*args, "--model", str(repo / "models"), "--gallery", str(repo / "g.sqlite"), "--no-progress"]
    )


def test_a_folder_is_enrolled_and_a_rerun_resumes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(repo, str(repo / "catalogue")) == 0
    out = capsys.readouterr().out
    assert "2 artists, 4 files: 3 enrolled, 0 already enrolled, 1 failed" in out and "broken.wav" in out
    store = open_store(sqlite_url(repo / "g.sqlite"))
    assert [(r.artist_id, r.n_songs) for r in store.page(offset=0, limit=10)[0]] == [("ann", 2), ("bo", 1)]
    store.close()
    assert _run(repo, str(repo / "catalogue")) == 0
    assert "0 enrolled, 3 already enrolled, 1 failed" in capsys.readouterr().out


def test_a_csv_manifest_gives_names(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "list.csv").write_text(
        "path,artist,name\ncatalogue/ann/300.wav,ann,Ann Example\n", encoding="utf-8"
    )
    assert _run(repo, str(repo / "list.csv")) == 0
    store = open_store(sqlite_url(repo / "g.sqlite"))
    assert store.get("ann").name == "Ann Example"
    store.close()
    (repo / "bad.csv").write_text("file,who\nx.wav,ann\n", encoding="utf-8")
    assert _run(repo, str(repo / "bad.csv")) == 2
    assert "needs columns path,artist" in capsys.readouterr().err


def test_stale_artists_are_re_embedded_from_their_files(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(repo, str(repo / "catalogue")) == 0
    model = repo / "models" / "songid-test"
    shutil.copytree(model / "1", model / "2")  # a new model version: the enrolments are stale
    store = open_store(sqlite_url(repo / "g.sqlite"))
    assert store.stale("songid-test:2") == 2
    assert _run(repo, "--reembed") == 0
    assert "re-embedded 2 artists with songid-test:2" in capsys.readouterr().out
    assert store.stale("songid-test:2") == 0 and store.get("ann").n_songs == 2
    store.close()


def test_no_source_and_no_gallery_are_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", str(repo / "models")]) == 2
    assert main([str(repo / "catalogue"), "--model", str(repo / "models")]) == 2
    assert "SONGID_GALLERY_PATH" in capsys.readouterr().err


def test_without_a_gallery_option_the_services_settings_name_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SONGID_DATABASE_URL", f"sqlite:///{repo / 'from-settings.sqlite'}")
    assert main([str(repo / "catalogue"), "--model", str(repo / "models"), "--no-progress"]) == 0
    store = open_store(f"sqlite:///{repo / 'from-settings.sqlite'}")
    assert store.page(offset=0, limit=10)[1] == 2
    store.close()
    monkeypatch.setenv("SONGID_DATABASE_URL", "mysql://nowhere")
    assert main([str(repo / "catalogue"), "--model", str(repo / "models"), "--no-progress"]) == 2
    assert "SONGID_DATABASE_URL" in capsys.readouterr().err


def test_a_gallery_that_cannot_be_used_is_one_line_naming_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "g.sqlite").write_bytes(b"not a database\n" * 200)
    assert _run(repo, str(repo / "catalogue")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(repo / "g.sqlite") in err and "Traceback" not in err
