"""Parsers of tags, Debian copyright files, album.json, .music descriptors and song.ini."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.benchmarks.credits import (
    CreditFileError,
    copyright_for,
    parse_album_json,
    parse_debian_copyright,
    parse_music_descriptor,
    parse_song_ini,
)
from training.benchmarks.tags import TagError, first_tag, read_tags

from .fakes import write_ogg, write_tagged_ogg

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: game

Files: *
Copyright: 2011-2021 Lead Dev <lead@example.org>
License: GPL-2+

Files: music/a-*.ogg
       music/b.ogg
Copyright: Shawn Parrotte (http://www.shawnparrotte.com)
License: CC-BY-SA-3.0

Files: music/b.ogg
Copyright:
 2017 Someone Else
License: CC0-1.0
 A license text paragraph
 .
 with a dot line.
"""


def test_vorbis_comments_read_composer_case_insensitively(tmp_path: Path) -> None:
    path = write_tagged_ogg(
        tmp_path / "t.ogg", ["Title=Victory", "Composer=Ryan Reilly", "ARTIST=R. R.", "junk"]
    )
    tags = read_tags(path)
    assert tags["COMPOSER"] == ["Ryan Reilly"]
    assert first_tag(tags, "COMPOSER", "ARTIST") == ("COMPOSER", "Ryan Reilly")
    assert first_tag(tags, "ALBUM") is None


def test_tags_of_a_real_vorbis_file(tmp_path: Path) -> None:
    path = write_ogg(tmp_path / "r.ogg", 0.5, artist="Martin Strohmeier (K-Pone)")
    assert first_tag(read_tags(path), "COMPOSER", "ARTIST") == ("ARTIST", "Martin Strohmeier (K-Pone)")


def test_non_ogg_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.ogg"
    path.write_bytes(b"RIFF....WAVEfmt " * 4)
    with pytest.raises(TagError, match="bad Ogg page"):
        read_tags(path)


def test_debian_copyright_last_specific_stanza_wins() -> None:
    stanzas = parse_debian_copyright(COPYRIGHT)
    assert [s.patterns for s in stanzas] == [("*",), ("music/a-*.ogg", "music/b.ogg"), ("music/b.ogg",)]
    installed = "usr/share/game/music/"
    assert copyright_for(stanzas, installed + "a-1.ogg") == "Shawn Parrotte (http://www.shawnparrotte.com)"
    assert copyright_for(stanzas, installed + "b.ogg") == "2017 Someone Else"
    assert copyright_for(stanzas, installed + "c.ogg") is None  # only the blanket "*" matches
    assert copyright_for(stanzas, installed + "c.ogg", ignore_catch_all=False).startswith("2011-2021 Lead")


def test_album_json_track_author_defaults_to_album(tmp_path: Path) -> None:
    path = tmp_path / "album.json"
    album = {
        "author": "Martin Severn",
        "tracks": [{"filename": "t1.opus"}, {"filename": "t2.opus", "author": "X"}],
    }
    path.write_text(json.dumps(album))
    assert parse_album_json(path) == {"t1.opus": "Martin Severn", "t2.opus": "X"}
    path.write_text("{not json")
    with pytest.raises(CreditFileError, match=r"album\.json"):
        parse_album_json(path)


def test_music_descriptor_tolerates_malformed_xml() -> None:
    text = (
        '<?xml version="1.0"?>\r\n<music title = "B"\r\n'
        ' composer = "Alexandr Zhelanov <https://x.org/a>"\r\n file="B.ogg"/>'
    )
    attrs = parse_music_descriptor(text)
    assert attrs["composer"] == "Alexandr Zhelanov <https://x.org/a>"
    assert attrs["file"] == "B.ogg"
    assert parse_music_descriptor('<music composer="Jason Lavall&#233;e" file="b.ogg"/>')["composer"] == (
        "Jason Lavallée"
    )
    assert parse_music_descriptor("no element") == {}


def test_song_ini_artist() -> None:
    ini = "[song]\nscores = 6365\nname = Feelings\nartist = Composed and performed by Sectoid\n"
    assert parse_song_ini(ini)["artist"] == "Composed and performed by Sectoid"
    assert parse_song_ini("[other]\na = 1\n") == {}
