"""The README's two commands: the serve command really serves the bundled model; CI runs the test one."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from frontend.artifact import load_artifact
from tests.processes import free_port, server_process, wait_ready
from tests.service.samples import encode

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"## The two commands\n.*?```sh\n(.*?)```", text, re.S)
    assert block, "README has no 'The two commands' code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_names_two_commands_and_ci_runs_the_test_one() -> None:
    serve, test = readme_commands()
    assert (serve, test) == ("scripts/serve", "scripts/test")
    assert "exec scripts/test" in (REPO / ".ci" / "run").read_text()


def test_bundled_model_is_small_and_loads() -> None:
    artifact = load_artifact(REPO / "models")
    assert artifact.tasks == ["artist", "language"]
    assert artifact.onnx_path.stat().st_size < 1_000_000
    assert "zxx" in {label.id for label in artifact.labels["language"]}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SONGID_PORT": str(port), "SONGID_HOST": "127.0.0.1"}
    env.pop("SONGID_MODEL_DIR", None)  # the bundled model, as the README promises
    log_path = tmp_path / "serve.log"
    with server_process(readme_commands()[:1], env=env, cwd=REPO, log_path=log_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process, log_path, timeout=300)  # first use installs the serve extra
        yield base


def test_serve_command_answers_predict_with_the_bundled_model(served: str) -> None:
    song = encode("flac", seconds=7.0, rate=22_050)  # notes: a steady tone is judged no_evidence
    response = httpx.post(f"{served}/predict?top_k=2", files={"file": ("song.flac", song)}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["name"] == "songid-multitask"
    assert body["n_segments"] == 2
    assert set(body["predictions"]) == set(body["decisions"]) == {"artist", "language"}
    assert (
        body["decisions"]["artist"]["threshold"] == load_artifact(REPO / "models").openset["artist"].threshold
    )
    assert all(len(v) == 2 for v in body["predictions"].values())
    labels = httpx.get(f"{served}/labels", timeout=10).json()
    served_languages = [label["id"] for label in labels["tasks"]["language"]]
    if (labels.get("language_expert") or {}).get("state") == "loaded":  # scripts/serve could fetch it
        expert = json.loads((REPO / "tests" / "whisper_base_languages.json").read_text(encoding="utf-8"))
        assert served_languages == ["zxx", *(label["id"] for label in expert if label["id"] != "zxx")]
    else:  # the network's language head alone
        assert served_languages == [label.id for label in load_artifact(REPO / "models").labels["language"]]
    assert "zxx" in served_languages and len(served_languages) > 6  # instrumental and many spoken languages
