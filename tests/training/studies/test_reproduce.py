"""``songid reproduce``: every run of the plan once, resumable, report marked partial until done."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontend.audio import SAMPLE_RATE
from tests.conftest import tone, write_audio
from tests.training.studies.test_compare import fake_metrics
from training.split import read_split
from training.studies.paths import StudyPaths
from training.studies.reproduce import reproduce
from training.studies.reproduce_plan import RunSpec, benchmark_plan


def _benchmark(root: Path, name: str, rows: list[dict[str, str]]) -> None:
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    columns = list(rows[0])
    lines = [",".join(["path", *columns])]
    for k, row in enumerate(rows):
        write_audio(folder / "audio" / f"{k}.flac", tone(3.2, freq=150.0 + 40 * k, seed=k), SAMPLE_RATE)
        lines.append(",".join([f"audio/{k}.flac", *row.values()]))
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def paths(tmp_path: Path) -> StudyPaths:
    bench = tmp_path / "benchmarks"
    _benchmark(
        bench,
        "gamemusic",
        [
            {"artist": f"c{k % 4}", "language": "zxx", "group": f"g{k}", "soundtrack": f"st{k % 2}"}
            for k in range(20)
        ],
    )
    voices = {"v-en": "en", "v-es1": "es", "v-es2": "es"}
    _benchmark(
        bench,
        "voices",
        [
            {"artist": v, "language": lang, "group": f"{v}:{k}", "voice": v}
            for v, lang in voices.items()
            for k in range(5)
        ],
    )
    reports = tmp_path / "reports"
    return StudyPaths(
        benchmarks=bench,
        caches=tmp_path / "cache",
        runs=tmp_path / "runs",
        records=reports / "runs",
        reports=reports,
    )


class FakeRunner:
    """Writes fake metrics where a run would; fails on call ``fail_at`` (an interruption)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[RunSpec] = []
        self.fail_at = fail_at

    def __call__(self, spec: RunSpec) -> dict[str, Any]:
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise KeyboardInterrupt
        self.calls.append(spec)
        metrics = fake_metrics(dict.fromkeys(spec.row.tasks, 0.5))
        metrics["train"] = {"wall_s": 10.0, "epochs": 1, "segments_per_s": 20.0}
        spec.run.write_metrics(metrics)
        return metrics


def test_interrupted_reproduction_resumes_and_never_redoes_a_run(paths: StudyPaths) -> None:
    n_runs = 3 * 5  # seeds x (baseline + 4 CNN rows)
    with pytest.raises(KeyboardInterrupt):
        reproduce("gamemusic", paths=paths, runner=FakeRunner(fail_at=4), jobs=1)
    report = (paths.reports / "gamemusic.md").read_text()
    assert f"**Partial**: 4 of {n_runs} runs finished" in report
    assert "a run tests 18 songs, so one song more or less right moves song top-1 by 0.056." in report

    resumed = FakeRunner()
    reproduce("gamemusic", paths=paths, runner=resumed, jobs=1)
    assert len(resumed.calls) == n_runs - 4
    assert len({s.run_dir for s in resumed.calls}) == n_runs - 4
    report = (paths.reports / "gamemusic.md").read_text()
    assert f"**Complete**: all {n_runs} runs finished" in report
    assert "| multitask-alpha-ratio | 3 | 0.800 ± 0.000 (+0.000) |" in report
    assert (paths.reports / "gamemusic" / "table1_song-split_artist.png").is_file()

    again = FakeRunner()
    reproduce("gamemusic", paths=paths, runner=again, jobs=1)
    assert again.calls == []


class ResumedRunner(FakeRunner):
    """Like FakeRunner, but the seed-0 multitask run reads as resumed: it measured 1 s of 10."""

    def __call__(self, spec: RunSpec) -> dict[str, Any]:
        metrics = super().__call__(spec)
        if spec.row.name == "multitask-alpha-ratio" and spec.seed == 0:
            metrics["train"].update(wall_s=1.0, resumed=True)
            spec.run.write_metrics(metrics)
        return metrics


def test_a_resumed_run_is_counted_in_the_total_but_not_in_the_time_per_run(paths: StudyPaths) -> None:
    reproduce("gamemusic", paths=paths, runner=ResumedRunner(), jobs=1)
    report = (paths.reports / "gamemusic.md").read_text()
    assert "finished runs: 0.04 h (141 s; 1 resumed after an interruption, timed from the resume)" in report
    assert "| multitask-alpha-ratio | 3, 1 resumed (+0 to run) | 10 |" in report
    assert "| cnn-artist-only | 3 (+0 to run) | 10 |" in report


def test_records_beside_the_report_carry_finished_runs_to_another_machine(paths: StudyPaths) -> None:
    import shutil

    reproduce("gamemusic", paths=paths, runner=FakeRunner(), jobs=1, seeds=[0])
    records = paths.reports / "runs" / "gamemusic"
    kept = sorted(p.relative_to(records).as_posix() for p in records.rglob("*.json"))
    assert "plan.json" in kept and "song-split/multitask-alpha-1/seed0.json" in kept
    assert len(kept) == 1 + 5  # the plan and seed 0's five rows
    before = (paths.reports / "gamemusic.md").read_text()

    shutil.rmtree(paths.runs)  # a fresh machine: caches and run folders gone, reports committed
    shutil.rmtree(paths.caches)
    again = FakeRunner()
    reproduce("gamemusic", paths=paths, runner=again, jobs=1, seeds=[0, 1])
    assert {s.seed for s in again.calls} == {1} and len(again.calls) == 5
    report = (paths.reports / "gamemusic.md").read_text()
    assert "| multitask-alpha-ratio | 2 |" in report and "| multitask-alpha-ratio | 1 |" in before


@pytest.mark.parametrize("kept_in", ["runs", "records"])
def test_runs_of_another_configuration_are_refused(paths: StudyPaths, kept_in: str) -> None:
    reproduce("gamemusic", paths=paths, runner=FakeRunner(), jobs=1, seeds=[0])
    folder = paths.runs if kept_in == "runs" else paths.reports / "runs"
    plan_file = folder / "gamemusic" / "plan.json"
    plan = json.loads(plan_file.read_text())
    plan["train"]["epochs"] = 99
    plan_file.write_text(json.dumps(plan))
    with pytest.raises(ValueError, match=r"holds runs of another configuration \(differs in \['train'\]\)"):
        reproduce("gamemusic", paths=paths, runner=FakeRunner(), jobs=1)


def test_smoke_runs_elsewhere_with_a_tiny_budget(paths: StudyPaths) -> None:
    runner = FakeRunner()
    reproduce("gamemusic", paths=paths, runner=runner, jobs=1, smoke=True)
    assert len(runner.calls) == 5 and {s.seed for s in runner.calls} == {0}
    assert all("runs-smoke" in str(s.run_dir) for s in runner.calls)
    assert runner.calls[1].plan.train.epochs == 1
    assert "**Smoke configuration**" in (paths.reports / "gamemusic.md").read_text()


def test_voices_unseen_voice_and_augmented_rows(paths: StudyPaths) -> None:
    runner = FakeRunner()
    reproduce("voices", paths=paths, runner=runner, jobs=1, seeds=[0])
    plan = benchmark_plan("voices")
    unseen = [s for s in runner.calls if s.section.protocol == "unseen-voice"]
    assert len(runner.calls) == 5 + 2 * len(plan.sections[1].rows)
    for spec in unseen:
        split = read_split(spec.split_file)
        if spec.row.augmented:
            assert spec.cache_dir == paths.caches / plan.augmented_cache_name
            base = read_split(spec.split_file.with_name(spec.split_file.name.replace("-aug", "")))
            assert {k: v for k, v in split.items() if k in base} == base
            extra = set(split) - set(base)
            trained = {k for k, v in base.items() if v == "train"}
            assert extra and {k.rsplit("-aug", 1)[0] for k in extra} == trained
        else:
            assert spec.cache_dir == paths.caches / "voices"
        cnn = plan.row_config(spec.row, seed=0)
        per_song = plan.train.segments_per_song
        assert per_song is not None and plan.augment is not None
        # augmented rows draw as many segments per epoch from the song and its copies together
        assert cnn.segments_per_song == (
            -(-per_song // (1 + plan.augment.copies)) if spec.row.augmented else per_song
        )
    report = (paths.reports / "voices.md").read_text()
    assert "Fold `fold0` only" in report and "cnn-language-only+aug − cnn-language-only" in report
    assert "## Augmentation" in report
