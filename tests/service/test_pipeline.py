"""The serving pipeline without HTTP: formats, limits, refusals, metrics and ranking."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from frontend.labels import Label
from service.errors import PayloadTooLargeError, UnsupportedMediaError
from service.limits import MIN_DECODED_BYTES, AnalysisLimits
from service.metrics import Metrics
from service.model import SongModel
from service.pipeline import Pipeline
from service.ranking import ranked, song_probabilities
from tests.service.samples import FORMATS, LABELS, encode, make_artifact, melody


@pytest.fixture
def pipeline(loaded_model: SongModel) -> Pipeline:
    return Pipeline(
        loaded_model, AnalysisLimits(max_duration_s=30.0, max_decoded_bytes=256 * 2**20), metrics=Metrics()
    )


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_analyse_every_format(pipeline: Pipeline, fmt: str) -> None:
    analysis = pipeline.analyse(io.BytesIO(encode(fmt, seconds=6.5)))
    assert analysis.duration_s == pytest.approx(6.5, abs=0.1)
    assert analysis.n_segments == 2
    assert analysis.segment_times[1] == pytest.approx((2.992, 5.984), abs=1e-3)
    for task, song in analysis.song_probs.items():
        assert song.sum() == pytest.approx(1.0, abs=1e-9)
        np.testing.assert_allclose(song, analysis.segment_probs[task].mean(axis=0), rtol=1e-5)


def test_analysis_stops_at_the_maximum_duration(loaded_model: SongModel) -> None:
    pipeline = Pipeline(loaded_model, AnalysisLimits(max_duration_s=4.0))
    analysis = pipeline.analyse(io.BytesIO(encode("flac", seconds=12.0)))
    assert analysis.duration_s == pytest.approx(4.0, abs=0.01)
    assert analysis.n_segments == 1


def test_undecodable_input_is_unsupported_media(pipeline: Pipeline) -> None:
    with pytest.raises(UnsupportedMediaError, match="cannot decode"):
        pipeline.analyse(io.BytesIO(b"definitely not audio" * 50))


def test_decode_budget_refuses_wide_high_rate_files(loaded_model: SongModel) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, melody(6.0, 192_000, channels=8), 192_000, format="FLAC", subtype="PCM_16")
    pipeline = Pipeline(loaded_model, AnalysisLimits(max_decoded_bytes=MIN_DECODED_BYTES))
    with pytest.raises(PayloadTooLargeError, match="MiB"):
        pipeline.analyse(io.BytesIO(buffer.getvalue()))


def test_metrics_count_analysed_audio(pipeline: Pipeline) -> None:
    pipeline.analyse(io.BytesIO(encode("wav", seconds=3.5)))
    text = pipeline._metrics.render().decode()  # type: ignore[union-attr]
    assert "songid_audio_seconds_analysed_total 3.5" in text
    assert "songid_inference_seconds_count 1.0" in text


def test_warm_up_makes_it_ready_without_counting(loaded_model: SongModel) -> None:
    metrics = Metrics()
    pipeline = Pipeline(loaded_model, AnalysisLimits(), metrics=metrics)
    assert not pipeline.ready
    pipeline.warm_up()
    assert pipeline.ready
    assert "songid_audio_seconds_analysed_total 0.0" in metrics.render().decode()


def test_infer_gives_every_output_and_records_its_time(pipeline: Pipeline) -> None:
    mel = np.zeros((3, 187, 96, 1), dtype=np.float32)
    outputs = pipeline.infer(mel)
    assert list(outputs) == list(LABELS)
    assert outputs["artist"].shape == (3, len(LABELS["artist"]))
    assert "songid_inference_seconds_count 1.0" in pipeline._metrics.render().decode()  # type: ignore[union-attr]


def test_analysis_ranks_labels_like_the_response(pipeline: Pipeline) -> None:
    analysis = pipeline.analyse(io.BytesIO(encode("wav", seconds=6.5)))
    top = analysis.ranked(2)
    assert list(top) == list(LABELS)
    assert [len(v) for v in top.values()] == [2, 2]
    best = top["artist"][0]
    assert best.probability == pytest.approx(analysis.song_probs["artist"].max())
    assert analysis.segment_ranked(1, 1)["language"][0].label in pipeline.model.labels["language"]
    assert analysis.segment_outputs == analysis.song_outputs == {}  # the sample model has heads only


def test_ranked_keeps_label_order_on_ties_and_clips_to_unit_range() -> None:
    labels = [Label("a", "A"), Label("b", "B"), Label("c", "C")]
    scores = ranked(np.array([0.2, 0.4, 0.4]), labels, 3)
    assert [s.label.id for s in scores] == ["b", "c", "a"]
    assert ranked(np.array([1.0000001, 0.0, -1e-9]), labels, 3)[-1].probability == 0.0


def test_song_probabilities_are_the_renormalised_mean() -> None:
    seg = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], dtype=np.float32)
    song = song_probabilities(seg)
    np.testing.assert_allclose(song, [0.4, 0.4, 0.2])
    assert song.sum() == pytest.approx(1.0, abs=1e-12)
    skewed = song_probabilities(np.array([[0.5, 0.4, 0.0]], dtype=np.float32))  # sums to 0.9
    assert skewed.sum() == pytest.approx(1.0, abs=1e-12)
    assert song_probabilities(np.zeros((2, 4))).tolist() == [0.25] * 4


class _CountingGallery:
    """A gallery that records being asked; ranks nobody."""

    state = "current"

    def __init__(self) -> None:
        self.asked = 0

    def rank(self, embedding: Any, *, top_k: int) -> tuple[list[Any], None]:
        self.asked += 1
        return [], None


def test_a_song_being_enrolled_is_not_ranked_against_the_gallery(tmp_path: Path, wav_bytes: bytes) -> None:
    make_artifact(tmp_path, embedding=True, centroids=True)
    model = SongModel(tmp_path, provider="cpu", intra_op_threads=1, inter_op_threads=1)
    model.load()
    gallery = _CountingGallery()
    pipeline = Pipeline(model, AnalysisLimits(), gallery=gallery)
    analysed = pipeline.analyse(io.BytesIO(wav_bytes))
    assert gallery.asked == 1 and analysed.gallery_state == "current"
    enrolled = pipeline.analyse(io.BytesIO(wav_bytes), rank_artists=False)
    assert gallery.asked == 1 and enrolled.gallery_state is None
    assert "embedding" in enrolled.song_outputs
