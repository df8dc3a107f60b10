"""Decisions per task: known, unknown or no evidence, from the model folder's rules or the operator's."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from frontend.labels import Label
from frontend.model_folder import write_openset
from frontend.openset import OpenSetRule
from service.decisions import decide, effective_rules, no_evidence
from service.limits import AnalysisLimits
from service.metrics import Metrics
from service.model import SongModel
from service.pipeline import Pipeline
from tests.service.conftest import AppFactory, upload
from tests.service.samples import LABELS, encode, make_artifact

LABELS_3 = [Label("a", "A"), Label("b", "B"), Label("c", "C")]


def test_a_rule_turns_a_weak_top_label_into_unknown() -> None:
    rule = OpenSetRule("max_probability", 0.5)
    known = decide(np.array([0.2, 0.7, 0.1]), LABELS_3, rule)
    assert (known.status, known.label, known.score, known.threshold) == ("known", LABELS_3[1], 0.7, 0.5)
    weak = decide(np.array([0.4, 0.35, 0.25]), LABELS_3, rule)
    assert (weak.status, weak.label, weak.score) == ("unknown", None, 0.4)
    closed = decide(np.array([0.4, 0.35, 0.25]), LABELS_3, None)  # no rule: the closed-set answer
    assert (closed.status, closed.label, closed.threshold) == ("known", LABELS_3[0], None)
    assert no_evidence(["artist"], "silence")["artist"].reason == "silence"


def test_an_operator_threshold_replaces_or_makes_a_rule_and_a_wrong_task_is_refused() -> None:
    rules = {"artist": OpenSetRule("max_probability", 0.3, {"val_songs": 10})}
    effective = effective_rules(rules, {"artist": 0.6, "language": 0.9}, ["artist", "language"])
    assert effective["artist"].threshold == 0.6 and effective["artist"].calibration == {"set_by": "operator"}
    assert effective["language"] == OpenSetRule("max_probability", 0.9, {"set_by": "operator"})
    with pytest.raises(ValueError, match=r"thresholds for \['genre'\]"):
        effective_rules(rules, {"genre": 0.5}, ["artist", "language"])


def white_noise_wav(seconds: float = 30.0) -> bytes:
    buffer = io.BytesIO()
    noise = 0.3 * np.random.default_rng(0).standard_normal(int(seconds * 16_000))
    sf.write(buffer, noise.astype(np.float32), 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_noise_gets_no_evidence_without_running_the_network(loaded_model: SongModel) -> None:
    metrics = Metrics()
    pipeline = Pipeline(loaded_model, AnalysisLimits(), metrics=metrics)
    analysis = pipeline.analyse(io.BytesIO(white_noise_wav()))
    assert not analysis.evidence.present
    assert {d.status for d in analysis.decisions.values()} == {"no_evidence"}
    assert analysis.n_segments == 0 and analysis.song_probs == {}
    assert analysis.ranked(5) == {"artist": [], "language": []}
    text = metrics.render().decode()
    assert "songid_inference_seconds_count 0.0" in text
    assert 'songid_decisions_total{status="no_evidence",task="artist"} 1.0' in text


def test_predict_answers_decisions_with_the_folders_rule_or_the_operators(
    tmp_path: Path, make_client: AppFactory
) -> None:
    folder = make_artifact(tmp_path)
    write_openset(folder, {"artist": OpenSetRule("max_probability", 1.5)})  # nothing reaches it
    model = SongModel(tmp_path, provider="cpu", intra_op_threads=1)
    client = make_client(model=model)
    body = upload(client, encode("wav", seconds=6.5)).json()
    artist, language = body["decisions"]["artist"], body["decisions"]["language"]
    assert (artist["status"], artist["label"], artist["threshold"]) == ("unknown", None, 1.5)
    assert artist["score"] == pytest.approx(body["predictions"]["artist"][0]["probability"])
    assert (language["status"], language["threshold"]) == ("known", None)  # no rule: closed set
    assert language["label"] == body["predictions"]["language"][0]["label"]
    lenient = make_client(model=model, openset_thresholds={"artist": 0.0})
    decision = upload(lenient, encode("wav", seconds=6.5)).json()["decisions"]["artist"]
    assert (decision["status"], decision["threshold"]) == ("known", 0.0)
    assert decision["label"] in {a["id"] for a in LABELS["artist"]}
    silent = upload(client, white_noise_wav(8.0)).json()
    assert silent["n_segments"] == 0 and silent["predictions"] == {"artist": [], "language": []}
    assert silent["decisions"]["artist"]["reason"].startswith("No evidence")


def test_a_threshold_for_a_task_the_model_lacks_stops_the_start(make_client: AppFactory) -> None:
    with pytest.raises(ValueError, match="genre"):
        make_client(openset_thresholds={"genre": 0.5})


def test_labels_name_each_tasks_rule_and_who_set_it(tmp_path: Path, make_client: AppFactory) -> None:
    folder = make_artifact(tmp_path)
    write_openset(folder, {"artist": OpenSetRule("max_probability", 0.3, {"val_songs": 5})})
    model = SongModel(tmp_path, provider="cpu", intra_op_threads=1)
    assert make_client(model=model).get("/labels").json()["open_set"] == {
        "artist": {"score": "max_probability", "threshold": 0.3, "set_by": "model"}
    }
    overridden = make_client(model=model, openset_thresholds={"language": 0.5}).get("/labels").json()
    assert overridden["open_set"]["language"] == {
        "score": "max_probability",
        "threshold": 0.5,
        "set_by": "operator",
    }
    assert overridden["open_set"]["artist"]["set_by"] == "model"
