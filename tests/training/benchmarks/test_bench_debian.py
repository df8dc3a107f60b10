"""Package download/extraction with fake apt-get and dpkg-deb programs on PATH."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from training.benchmarks.debian import (
    PackageError,
    ToolMissingError,
    check_package_name,
    download_deb,
    extract_deb,
    fetch_packages,
    find_deb,
)

FAKE_APT = """#!/bin/sh
echo "$@" >> "{log}"
[ "$1" = download ] || exit 100
case "$2" in unknown-*) echo "E: Unable to locate package $2" >&2; exit 100;; esac
echo fake > "$2_1.0-1_all.deb"
"""
FAKE_DPKG = """#!/bin/sh
echo "$@" >> "{log}"
mkdir -p "$3/usr/share/doc/pkg" && echo hi > "$3/usr/share/doc/pkg/copyright"
"""


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for name, text in (("apt-get", FAKE_APT), ("dpkg-deb", FAKE_DPKG)):
        tool = bin_dir / name
        tool.write_text(text.format(log=log))
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))  # fakes first
    return log


def test_download_and_extract_run_once(tmp_path: Path, fake_tools: Path) -> None:
    cache = tmp_path / "cache"
    roots = fetch_packages(["foo-data", "bar"], cache_dir=cache)
    assert roots == {"foo-data": cache / "extract/foo-data", "bar": cache / "extract/bar"}
    assert (roots["bar"] / "usr/share/doc/pkg/copyright").read_text() == "hi\n"
    assert find_deb(cache / "debs", "foo-data") == cache / "debs/foo-data_1.0-1_all.deb"
    calls = fake_tools.read_text().splitlines()
    assert len(calls) == 4
    fetch_packages(["foo-data", "bar"], cache_dir=cache)  # everything is there: no tool runs
    assert fake_tools.read_text().splitlines() == calls


def test_new_deb_is_extracted_again(tmp_path: Path, fake_tools: Path) -> None:
    debs = tmp_path / "debs"
    debs.mkdir()
    (debs / "pkg_1_all.deb").write_text("x")
    dest = extract_deb(debs / "pkg_1_all.deb", dest=tmp_path / "extract/pkg")
    (dest / "stale").write_text("old")
    extract_deb(debs / "pkg_1_all.deb", dest=dest)
    assert (dest / "stale").exists()
    (debs / "pkg_2_all.deb").write_text("y")
    extract_deb(debs / "pkg_2_all.deb", dest=dest)
    assert not (dest / "stale").exists()
    assert not (tmp_path / "extract/pkg.partial").exists()


def test_unknown_package_error_names_it(tmp_path: Path, fake_tools: Path) -> None:
    with pytest.raises(PackageError, match=r"apt-get download unknown-pkg.*apt-get update"):
        download_deb("unknown-pkg", debs_dir=tmp_path)


def test_missing_tools_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    with pytest.raises(ToolMissingError, match=r"'apt-get' was not found.*'foo'"):
        download_deb("foo", debs_dir=tmp_path / "debs")
    (tmp_path / "foo_1_all.deb").write_text("x")
    assert download_deb("foo", debs_dir=tmp_path) == tmp_path / "foo_1_all.deb"  # present: apt not needed
    with pytest.raises(ToolMissingError, match="'dpkg-deb' was not found"):
        extract_deb(tmp_path / "foo_1_all.deb", dest=tmp_path / "x")


@pytest.mark.parametrize("name", ["Foo", "a", "foo bar", "../etc", "-x"])
def test_bad_package_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid Debian package name"):
        check_package_name(name)
