"""Benchmark "dplace": real singing from around the world (the CCMC song excerpts of D-PLACE).

Source: the public repository ``D-PLACE/dplace-dataset-ccmc`` (CC BY 4.0; cite the dataset as
its README asks): 1,007 excerpts of about 10 s (``cldf/songs/<id>.mp3``) of songs sung solo or
in groups, some accompanied, by 410 societies; ``cldf/data.csv`` gives each song's society and
type (dance, lullaby, ...), ``cldf/societies.csv`` each society's language as a glottocode.

Every excerpt has someone singing: the benchmark is the project's test of "vocals are not zxx".
language = the ISO 639-1 code of the society's language where :data:`ISO_639_1` knows it (the
languages the other benchmarks speak, their regional varieties included, creoles not), else the
glottocode itself (a language no model here has a label for); artist is empty; group = the
excerpt. Extra columns: ``glottocode``, ``society``, ``song_type``.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Final

from training.benchmarks.convert import ConvertJob, prune_stale, run_jobs
from training.benchmarks.manifest import write_manifest
from training.benchmarks.repository import checkout

log = logging.getLogger(__name__)

NAME: Final = "dplace"
SOURCE: Final = "https://github.com/D-PLACE/dplace-dataset-ccmc"
CLDF: Final = "cldf"
EXTRA_COLUMNS: Final = ("glottocode", "society", "song_type", "duration_s")

#: glottocode -> ISO 639-1, for the languages spoken in the project's speech benchmarks
ISO_639_1: Final = {
    "stan1288": "es", "amer1254": "es", "domi1242": "es",  # Spanish; Latin American, Dominican
    "stan1293": "en", "iris1255": "en", "ulst1241": "en", "lowe1445": "en",  # English and varieties
    "stan1290": "fr", "stan1295": "de", "russ1263": "ru", "bulg1262": "bg", "port1283": "pt",
    "dutc1256": "nl", "roma1327": "ro", "basq1248": "eu", "czec1258": "cs", "dani1285": "da",
    "finn1318": "fi", "hind1269": "hi", "hung1274": "hu", "indo1316": "id", "ital1282": "it",
    "lith1251": "lt", "mand1415": "zh", "mara1378": "mr", "mode1248": "el", "nucl1301": "tr",
    "poli1260": "pl", "scot1245": "gd", "serb1264": "sr", "slov1268": "sl", "slov1269": "sk",
    "swed1254": "sv", "arab1395": "ar", "norw1258": "no",
}  # fmt: skip


def excerpts(cldf: Path) -> list[dict[str, str]]:
    """One row per song excerpt: ``song_id``, ``glottocode``, ``society``, ``song_type``, ``language``."""
    with (cldf / "societies.csv").open(newline="", encoding="utf-8") as f:
        societies = {row["ID"]: row for row in csv.DictReader(f)}
    rows = []
    with (cldf / "data.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            society = societies[row["Soc_ID"]]
            glottocode = society["Glottocode"]
            rows.append(
                {
                    "song_id": row["Song_ID"],
                    "glottocode": glottocode,
                    "society": society["Name"],
                    "song_type": row["Value"],
                    "language": ISO_639_1.get(glottocode, glottocode),
                }
            )
    return sorted(rows, key=lambda r: r["song_id"])


def build(*, cache_dir: Path, jobs: int = 2, source: str | Path = SOURCE) -> Path:
    """Clone (or read) the repository, convert the excerpts, write ``<cache>/dplace/manifest.csv``."""
    root = checkout(source, cache_dir=cache_dir, name="dplace-dataset-ccmc", expect=f"{CLDF}/songs")
    cldf = root / CLDF
    out_dir = Path(cache_dir) / NAME
    rows = excerpts(cldf)
    jobs_ = [
        ConvertJob((cldf / "songs" / f"{r['song_id']}.mp3",), out_dir / "audio" / f"{r['song_id']}.flac")
        for r in rows
    ]
    durations, failures = run_jobs(jobs_, workers=jobs, desc=f"{NAME} audio")
    prune_stale(out_dir / "audio", {j.output for j in jobs_})
    manifest_rows = [
        {
            "path": f"audio/{r['song_id']}.flac",
            "artist": "",
            "language": r["language"],
            "group": f"{NAME}:{r['song_id']}",
            "glottocode": r["glottocode"],
            "society": r["society"],
            "song_type": r["song_type"],
            "duration_s": durations[job.output],
        }
        for r, job in zip(rows, jobs_, strict=True)
        if job.output in durations
    ]
    if failures:
        log.warning("%d of %d excerpts could not be decoded and are left out", len(failures), len(rows))
    return write_manifest(out_dir / "manifest.csv", EXTRA_COLUMNS, manifest_rows)
