"""Prompt discovery, grouping into songs, raw GSM decoding and an end-to-end voices build."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import soundfile as sf

from training.benchmarks import voices
from training.benchmarks.convert import load_raw_gsm, source_duration
from training.benchmarks.voices import Prompt, VoiceSpec, find_prompt_files, group_prompts, voices_by_language

from .fakes import write_raw_gsm, write_wav


def prompts(*durations: float) -> list[Prompt]:
    return [Prompt(Path(f"p{i}.wav"), f"p{i}.wav", f"m{i}", d) for i, d in enumerate(durations)]


def test_group_prompts_closes_songs_at_the_target() -> None:
    songs = group_prompts(prompts(20, 20, 20, 20, 20, 20, 5), target_s=60, gap_s=0.3)
    assert [len(s) for s in songs] == [3, 4]  # 60.6 s, then 20+20+20 falls short until the 5 s tail joins


def test_short_remainder_joins_the_previous_song() -> None:
    songs = group_prompts(prompts(30, 31, 10), target_s=60, gap_s=0.0)
    assert [[p.source for p in s] for s in songs] == [["p0.wav", "p1.wav", "p2.wav"]]
    songs = group_prompts(prompts(30, 31, 35), target_s=60, gap_s=0.0)
    assert [len(s) for s in songs] == [2, 1]  # 35 s >= half the target: its own song


def test_song_closes_before_a_prompt_that_would_overshoot() -> None:
    songs = group_prompts(prompts(25, 25, 5, 62, 10), target_s=60, gap_s=0.3)
    assert [[p.duration_s for p in s] for s in songs] == [[25, 25, 5], [62, 10]]  # the 10 s tail joins


def test_long_prompt_is_its_own_song_and_nothing_is_lost() -> None:
    ps = prompts(*([2.0] * 50), 90.0, *([3.0] * 7))
    songs = group_prompts(ps, target_s=60, gap_s=0.3)
    assert [p for s in songs for p in s] == ps
    assert group_prompts([], target_s=60) == []
    with pytest.raises(ValueError, match="target_s"):
        group_prompts(ps, target_s=0)


def test_find_prompts_skips_silence_tones_and_symlinks(tmp_path: Path) -> None:
    sounds = tmp_path / "usr/share/asterisk/sounds"
    write_wav(sounds / "fr/hello.wav", 0.2)
    write_wav(sounds / "fr/beep.wav", 0.2)
    write_wav(sounds / "fr/silence/1.wav", 0.2)
    write_raw_gsm(sounds / "fr/digits/1.gsm", 0.2)
    (sounds / "digits").mkdir()
    (sounds / "digits/fr").symlink_to("../fr/digits")  # packages link folders into each other
    (tmp_path / "README").write_text("not audio")
    found = [p.relative_to(tmp_path).as_posix() for p in find_prompt_files(tmp_path)]
    assert found == ["usr/share/asterisk/sounds/fr/digits/1.gsm", "usr/share/asterisk/sounds/fr/hello.wav"]


def test_raw_gsm_decodes_to_16k(tmp_path: Path) -> None:
    path = write_raw_gsm(tmp_path / "a.gsm", 1.0)
    samples = load_raw_gsm(path)
    assert samples.dtype.name == "float32"
    assert samples.shape[0] == pytest.approx(16000, abs=400)
    assert source_duration(path, verify=True) == pytest.approx(1.0, abs=0.03)


def test_voices_by_language_pairs_es_fr_it() -> None:
    pairs = voices_by_language()
    assert sorted(pairs) == ["en", "es", "fr", "it", "ru"]
    assert {lang for lang, vs in pairs.items() if len(vs) == 2} == {"es", "fr", "it"}
    assert "asterisk-fr-armelle" in pairs["fr"]


def test_build_groups_dedupes_and_writes_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "extract/pkg-a/usr/share/asterisk/sounds/xx"
    for i in range(6):
        write_wav(a / f"p{i}.wav", 1.0, freq=300 + 40 * i)
    shutil.copy(a / "p0.wav", a / "p9-copy.wav")  # same md5: dropped
    write_wav(a / "silence/1.wav", 1.0)
    (a / "broken.gsm").write_bytes(b"")  # decodes to nothing: skipped
    write_wav(a / "empty.wav", 0.0)  # a valid header without frames: skipped
    b = tmp_path / "extract/pkg-b/usr/share/asterisk/sounds/yy"
    for i in range(3):
        write_raw_gsm(b / f"q{i}.gsm", 1.0, freq=500 + 40 * i)
    roots = {"pkg-a": tmp_path / "extract/pkg-a", "pkg-b": tmp_path / "extract/pkg-b"}
    monkeypatch.setattr(voices, "fetch_packages", lambda packages, *, cache_dir: roots)
    specs = (VoiceSpec("pkg-a", "voice-a", "xx"), VoiceSpec("pkg-b", "voice-b", "yy"))
    manifest = voices.build(cache_dir=tmp_path / "cache", jobs=1, voices=specs, target_s=2.2, gap_s=0.5)
    rows = list(csv.DictReader(manifest.open()))
    assert list(rows[0]) == ["path", "artist", "language", "group", "voice", "duration_s", "n_prompts"]
    assert [(r["artist"], r["language"], r["n_prompts"]) for r in rows] == [
        ("voice-a", "xx", "2"),
        ("voice-a", "xx", "2"),
        ("voice-a", "xx", "2"),
        ("voice-b", "yy", "3"),  # 1 + 0.5 + 1 s reach 2.2 s; the 1 s tail is < half: joins
    ]
    assert len({r["group"] for r in rows}) == 4
    assert float(rows[0]["duration_s"]) == pytest.approx(2.5, abs=0.01)
    for r in rows:
        info = sf.info(str(manifest.parent / r["path"]))
        assert (info.samplerate, info.channels) == (16000, 1)
    listed = list(csv.DictReader((manifest.parent / "prompts.csv").open()))
    assert [p["source"].rsplit("/", 1)[-1] for p in listed if p["voice"] == "voice-a"] == [
        f"p{i}.wav" for i in range(6)
    ]


def test_regrouping_replaces_stale_song_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "extract/pkg-a"
    for i in range(4):
        write_wav(a / f"usr/share/asterisk/sounds/xx/p{i}.wav", 1.0, freq=300 + 40 * i)
    monkeypatch.setattr(voices, "fetch_packages", lambda packages, *, cache_dir: {"pkg-a": a})
    specs = (VoiceSpec("pkg-a", "voice-a", "xx"),)
    cache = tmp_path / "cache"
    voices.build(cache_dir=cache, jobs=1, voices=specs, target_s=2.0, gap_s=0.0)
    assert len(list((cache / "voices/audio").rglob("*.flac"))) == 2
    manifest = voices.build(cache_dir=cache, jobs=1, voices=specs, target_s=100.0, gap_s=0.0)
    rows = list(csv.DictReader(manifest.open()))
    assert [r["n_prompts"] for r in rows] == ["4"]
    assert [p.relative_to(manifest.parent).as_posix() for p in (cache / "voices/audio").rglob("*.flac")] == [
        rows[0]["path"]
    ]
