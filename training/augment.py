"""Waveform augmentation into the mel cache: extra training copies of songs, same labels and group.

Each copy runs the song's 16 kHz waveform through a random chain (each step with its own
probability, at least one step per copy), in the order a recording chain would:

0. ``sing``: towards singing, the voice read faster or slower (pitch, tempo and formants move
   together, as a sped-up tape) with a 5-7 Hz pitch wobble like a singer's vibrato (the copy's
   length changes with the speed; off unless ``p_sing`` > 0);
1. ``music``: an excerpt of another recording (e.g. the gamemusic tracks) mixed under the
   speech at a speech-to-music ratio drawn in ``music_snr_db``;
2. ``noise``: white Gaussian noise at an SNR drawn in ``noise_snr_db``;
3. ``band``: a 4th-order Butterworth band-pass with edges drawn in ``band_low_hz``/``band_high_hz``;
4. ``codec``: an 8 kHz GSM 6.10 or mu-law round trip through libsndfile (soundfile);
5. ``gain``: a gain drawn in ``gain_db``, then clipping to [-1, 1].

The augmented cache is a second cache folder (named after :meth:`AugmentConfig.chain_key`): the
base songs' mels are hard links to the base cache (no copy), the copies are new ``.npy`` files
named ``<song_id>-aug<k>``, and its index lists both. :func:`augmented_split` adds to a split
the copies of its *train* songs only, so validation and test songs are never augmented and no
copy of a test song is ever trained on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import butter, sosfiltfilt

from frontend.audio import SAMPLE_RATE, load_audio, log_mel
from training.catalog import Song
from training.prepare import INDEX_FILE, MELS_DIR, mel_path

CODEC_RATE = 8_000  # Hz: telephone codecs
CODECS = {"gsm": "GSM610", "ulaw": "ULAW"}  # name -> libsndfile WAV subtype
EFFECTS_FILE = "augmentations.csv"
SING_FIELDS = ("p_sing", "sing_speed", "vibrato_cents")
VIBRATO_HZ = (5.0, 7.0)  # a singer's vibrato rate


@dataclass(frozen=True)
class AugmentConfig:
    """Copies per song and, per effect, its probability and parameter range (inclusive)."""

    copies: int = 2
    p_music: float = 0.5
    p_noise: float = 0.5
    p_band: float = 0.5
    p_codec: float = 0.5
    p_gain: float = 0.5
    music_snr_db: tuple[float, float] = (0.0, 15.0)
    noise_snr_db: tuple[float, float] = (5.0, 30.0)
    band_low_hz: tuple[float, float] = (150.0, 500.0)
    band_high_hz: tuple[float, float] = (2_800.0, 4_000.0)
    gain_db: tuple[float, float] = (-18.0, 6.0)
    seed: int = 0
    p_sing: float = 0.0
    sing_speed: tuple[float, float] = (0.85, 1.2)  # > 1: higher and faster
    vibrato_cents: tuple[float, float] = (0.0, 80.0)  # depth of the pitch wobble, cents either way

    def chain_key(self) -> str:
        """8 hex digits naming everything but ``copies``: copy ``k`` of a song depends only on this,
        so caches made with the same key (and any number of copies) can be shared."""
        fields = {k: v for k, v in asdict(self).items() if k != "copies"}
        if self.p_sing == 0:  # chains without the step keep the keys they had before it existed
            fields = {k: v for k, v in fields.items() if k not in SING_FIELDS}
        return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]

    def __post_init__(self) -> None:
        if self.copies < 1:
            raise ValueError(f"copies must be >= 1, got {self.copies}")
        for name in ("p_sing", "p_music", "p_noise", "p_band", "p_codec", "p_gain"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")
        for name in ("music_snr_db", "noise_snr_db", "band_low_hz", "band_high_hz", "gain_db", "sing_speed"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(lo, hi)}")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) + 1e-12


def band_limit(x: np.ndarray, *, low_hz: float, high_hz: float) -> np.ndarray:
    """Zero-phase band-pass of ``x`` (``(n,)`` at ``SAMPLE_RATE``) between ``low_hz`` and ``high_hz``."""
    if not 0 < low_hz < high_hz < SAMPLE_RATE / 2:
        raise ValueError(f"need 0 < low_hz < high_hz < {SAMPLE_RATE / 2}, got {low_hz}, {high_hz}")
    sos = butter(4, [low_hz, high_hz], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def codec_round_trip(x: np.ndarray, *, codec: str) -> np.ndarray:
    """``x`` encoded at 8 kHz with ``codec`` (``gsm`` or ``ulaw``), decoded, back at 16 kHz, same length."""
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {sorted(CODECS)}")
    narrow = np.clip(soxr.resample(x, SAMPLE_RATE, CODEC_RATE), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, narrow, CODEC_RATE, format="WAV", subtype=CODECS[codec])
    buf.seek(0)
    decoded, _ = sf.read(buf, dtype="float32")
    wide = soxr.resample(decoded, CODEC_RATE, SAMPLE_RATE)
    out = np.zeros_like(x)
    out[: min(len(x), len(wide))] = wide[: len(x)]
    return out


def apply_gain(x: np.ndarray, *, gain_db: float) -> np.ndarray:
    """``x`` scaled by ``gain_db`` decibels, clipped to [-1, 1] (loud gains distort, as a real chain)."""
    return np.clip(x * np.float32(10 ** (gain_db / 20)), -1.0, 1.0).astype(np.float32)


def add_noise(x: np.ndarray, *, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` plus white Gaussian noise ``snr_db`` decibels below its RMS."""
    noise = rng.standard_normal(len(x)) * _rms(x) / 10 ** (snr_db / 20)
    return (x + noise).astype(np.float32)


def sing_like(x: np.ndarray, *, speed: float, vibrato_cents: float, vibrato_hz: float = 6.0) -> np.ndarray:
    """``x`` (``(n,)`` at ``SAMPLE_RATE``) played ``speed`` times faster, with a pitch vibrato.

    Returns:
        ``(round(n / speed),)`` float32 or a little shorter: resampled by soxr (band-limited),
        then read at a rate that wobbles ``vibrato_cents`` either way, ``vibrato_hz`` times a second.
    """
    if not speed > 0 or vibrato_cents < 0:
        raise ValueError(f"need speed > 0 and vibrato_cents >= 0, got {speed}, {vibrato_cents}")
    y = soxr.resample(x, SAMPLE_RATE, SAMPLE_RATE / speed)
    t = np.arange(len(y)) / SAMPLE_RATE
    rate = 2 ** (vibrato_cents / 1200 * np.sin(2 * np.pi * vibrato_hz * t))
    position = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    position = position[position <= len(y) - 1]
    return np.interp(position, np.arange(len(y)), y).astype(np.float32)


def mix_music(x: np.ndarray, music: np.ndarray, *, snr_db: float) -> np.ndarray:
    """``x`` with ``music`` (same length) mixed under it, ``snr_db`` decibels quieter by RMS."""
    if music.shape != x.shape:
        raise ValueError(f"music shape {music.shape} != signal shape {x.shape}")
    return (x + music * (_rms(x) / _rms(music) / 10 ** (snr_db / 20))).astype(np.float32)


def music_excerpt(path: Path, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``(n_samples,)`` excerpt of ``path`` at ``SAMPLE_RATE``, looped if the file is shorter."""
    with sf.SoundFile(path) as f:
        need = int(np.ceil(n_samples * f.samplerate / SAMPLE_RATE))
        start = int(rng.integers(0, max(1, f.frames - need)))
        f.seek(start)
        data = f.read(frames=need, dtype="float32", always_2d=True).mean(axis=1)
        rate = int(f.samplerate)
    if rate != SAMPLE_RATE:
        data = soxr.resample(data, rate, SAMPLE_RATE)
    if len(data) == 0:
        raise ValueError(f"{path}: no audio to mix")
    return np.resize(data, n_samples).astype(np.float32)


def augment_waveform(
    x: np.ndarray, *, config: AugmentConfig, rng: np.random.Generator, music: Sequence[Path] = ()
) -> tuple[np.ndarray, list[str]]:
    """One random chain over ``x`` (``(n,)`` float32 at ``SAMPLE_RATE``).

    Returns:
        ``(y, steps)``: the augmented signal (same shape, but for ``sing``, which changes the
        length with the speed) and a description of each step applied.
    """
    # "sing" joins only when on: chains without it draw the same numbers as before it existed
    probs = {"sing": config.p_sing} if config.p_sing > 0 else {}
    probs |= {"music": config.p_music if music else 0.0, "noise": config.p_noise, "band": config.p_band}
    probs |= {"codec": config.p_codec, "gain": config.p_gain}
    chosen = {name for name, p in probs.items() if rng.random() < p}
    if not chosen:  # every copy differs from its source
        chosen = {str(rng.choice([n for n, p in probs.items() if p > 0] or ["gain"]))}
    y, steps = x.astype(np.float32), []
    if "sing" in chosen:
        speed, cents = float(rng.uniform(*config.sing_speed)), float(rng.uniform(*config.vibrato_cents))
        y = sing_like(y, speed=speed, vibrato_cents=cents, vibrato_hz=float(rng.uniform(*VIBRATO_HZ)))
        steps.append(f"sing(x{speed:.2f},{cents:.0f}c)")
    if "music" in chosen:
        track = music[int(rng.integers(len(music)))]
        snr = float(rng.uniform(*config.music_snr_db))
        y = mix_music(y, music_excerpt(track, len(y), rng), snr_db=snr)
        steps.append(f"music({track.name},{snr:.1f}dB)")
    if "noise" in chosen:
        snr = float(rng.uniform(*config.noise_snr_db))
        y = add_noise(y, snr_db=snr, rng=rng)
        steps.append(f"noise({snr:.1f}dB)")
    if "band" in chosen:
        low, high = float(rng.uniform(*config.band_low_hz)), float(rng.uniform(*config.band_high_hz))
        y = band_limit(y, low_hz=low, high_hz=high)
        steps.append(f"band({low:.0f}-{high:.0f}Hz)")
    if "codec" in chosen:
        codec = str(rng.choice(sorted(CODECS)))
        y = codec_round_trip(y, codec=codec)
        steps.append(f"codec({codec})")
    if "gain" in chosen:
        gain = float(rng.uniform(*config.gain_db))
        y = apply_gain(y, gain_db=gain)
        steps.append(f"gain({gain:+.1f}dB)")
    return y, steps


def aug_id(song_id: str, copy: int) -> str:
    return f"{song_id}-aug{copy}"


def _augment_one(source: str, out: str, seeds: list[int], config: AugmentConfig, music: list[Path]) -> None:
    """Worker: decode ``source``, augment, write the log-mel to ``out`` and its steps beside it."""
    rng = np.random.default_rng(seeds)
    y, steps = augment_waveform(load_audio(source), config=config, rng=rng, music=music)
    Path(out).with_suffix(".txt").write_text(";".join(steps), encoding="utf-8")
    tmp = f"{out}.{os.getpid()}.tmp.npy"
    np.save(tmp, log_mel(y))
    Path(tmp).replace(out)


def _link(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:  # another file system: copy
        shutil.copyfile(src, dst)


def build_augmented_cache(
    base_cache: Path,
    out_cache: Path,
    songs: Sequence[Song],
    *,
    config: AugmentConfig,
    music: Sequence[Path] = (),
    jobs: int = 2,
) -> dict[str, list[str]]:
    """A cache holding every song of ``base_cache`` plus ``config.copies`` copies of ``songs``.

    Resumable: finished copies are kept. Copies carry their source's labels and group.

    Returns:
        ``{source song_id: [copy ids]}`` for ``songs``.
    """
    base_index = base_cache / INDEX_FILE
    if not base_index.is_file():
        raise FileNotFoundError(f"{base_index}: no mel cache here; run `songid prepare` first")
    with base_index.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns, rows = list(reader.fieldnames or []), list(reader)
    by_id = {r["song_id"]: r for r in rows}
    unknown = [s.song_id for s in songs if s.song_id not in by_id]
    if unknown:
        raise ValueError(f"{len(unknown)} song(s) to augment are not in {base_index}, e.g. {unknown[0]}")
    (out_cache / MELS_DIR).mkdir(parents=True, exist_ok=True)
    for r in rows:
        _link(mel_path(base_cache, r["song_id"]), mel_path(out_cache, r["song_id"]))
    todo = [
        (s, k)
        for s in songs
        for k in range(config.copies)
        if not mel_path(out_cache, aug_id(s.song_id, k)).is_file()
    ]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(
                _augment_one,
                str(s.path),
                str(mel_path(out_cache, aug_id(s.song_id, k))),
                [config.seed, zlib.crc32(s.song_id.encode()), k],
                config,
                list(music),
            )
            for s, k in todo
        ]
        for fut in futures:
            fut.result()
    copies = {s.song_id: [aug_id(s.song_id, k) for k in range(config.copies)] for s in songs}
    _write_index(out_cache, columns, rows, copies, by_id)
    return copies


def _write_index(
    out_cache: Path,
    columns: list[str],
    rows: list[dict[str, str]],
    copies: dict[str, list[str]],
    by_id: dict[str, dict[str, str]],
) -> None:
    """The augmented cache's index (base rows, then copies) and its list of applied steps."""
    extra = []
    for source, ids in copies.items():
        for cid in ids:
            frames = int(np.load(mel_path(out_cache, cid), mmap_mode="r").shape[0])
            extra.append({**by_id[source], "song_id": cid, "n_frames": str(frames)})
    with (out_cache / INDEX_FILE).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows + extra)
    with (out_cache / EFFECTS_FILE).open("w", newline="", encoding="utf-8") as f:
        steps_writer = csv.writer(f)
        steps_writer.writerow(["song_id", "source_id", "steps"])
        for source, ids in copies.items():
            for cid in ids:
                steps = mel_path(out_cache, cid).with_suffix(".txt").read_text(encoding="utf-8")
                steps_writer.writerow([cid, source, steps])


def augmented_split(assignment: dict[str, str], copies: dict[str, list[str]]) -> dict[str, str]:
    """``assignment`` plus, as ``train``, the copies of its train songs (never of val or test songs)."""
    out = dict(assignment)
    for source, ids in copies.items():
        if assignment.get(source) == "train":
            out.update(dict.fromkeys(ids, "train"))
    return out
