"""Open-set rules in the model folder: read, checked against the heads, written, and applied."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from frontend.artifact import ArtifactError, load_artifact
from frontend.model_folder import write_openset
from frontend.openset import OpenSetError, OpenSetRule, parse_rules
from tests.service.samples import make_artifact

HEADS = ["artist", "language"]


def test_a_rule_scores_the_top_probability_and_knows_at_the_threshold() -> None:
    rule = OpenSetRule("max_probability", 0.4)
    assert rule.score_of(np.array([0.1, 0.4, 0.5])) == 0.5
    assert rule.is_known(0.4) and not rule.is_known(0.399)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"tasks": {"mood": {"score": "max_probability", "threshold": 0.5}}},
            "'mood' is not one of the model's heads",
        ),
        ({"tasks": {"artist": {"score": "energy", "threshold": 0.5}}}, "score must be one of"),
        ({"tasks": {"artist": {"score": "max_probability", "threshold": "nan"}}}, "threshold must be finite"),
        ({"tasks": {"artist": {"score": "max_probability"}}}, "expected"),
        ([], "expected"),
    ],
)
def test_bad_rules_are_refused_naming_the_source(document: object, message: str) -> None:
    with pytest.raises(OpenSetError, match=message) as info:
        parse_rules(document, heads=HEADS, where="x/openset.json")
    assert str(info.value).startswith("x/openset.json: ")


def test_the_model_folder_carries_its_rules(tmp_path: Path) -> None:
    folder = make_artifact(tmp_path)
    assert load_artifact(folder).openset == {}  # no file: a closed-set model
    rules = {"artist": OpenSetRule("max_probability", 0.31, {"val_songs": 12})}
    assert write_openset(tmp_path, rules).openset == rules  # a repository folder resolves to its model
    assert json.loads((folder / "openset.json").read_text())["tasks"]["artist"]["threshold"] == 0.31
    (folder / "openset.json").write_text('{"tasks": {"genre": {"score": "max_probability", "threshold": 1}}}')
    with pytest.raises(ArtifactError, match=r"openset\.json: task 'genre'"):
        load_artifact(folder)
