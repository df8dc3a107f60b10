"""The JSON examples of the README and docs/service.md are what the service answers today.

Every marked example (``tests/doc_examples.py`` says how they are marked) is checked against the
service serving the bundled model: its keys recursively against the OpenAPI schema and against a
real answer to the same request, its model name and version against the bundled model's, the
labels and thresholds it shows against the model folder, and tensor shapes against the signature.

The language task's labels and threshold are the network's, or, where the documented answers say
the folder's language expert is loaded (``language_expert`` in /labels and /readyz), the expert's
languages plus ``zxx`` and the expert component's open-set threshold. The expert's files are not
in git; its languages are kept in ``tests/whisper_base_languages.json`` (the output of
``songid-expert labels <expert folder>``, fixed by the pinned ``config.json`` and
``tokenizer.json``) and compared with the folder wherever the expert is in place.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from frontend.artifact import Artifact, load_artifact
from frontend.labels import Label
from frontend.language_gate import NO_LANGUAGE
from service.app import create_app
from service.components import LANGUAGE_EXPERT
from service.settings import Settings
from tests.doc_examples import (
    Example,
    examples,
    flat,
    json_blocks,
    key_problems,
    operation,
    resolve,
    schema_problems,
)
from tests.service.samples import encode

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "docs" / "service.md"]
EXAMPLES = [example for doc in DOCS for example in examples(doc, REPO)]
ADMIN = "doc-examples-admin-key"
ENROLLED = "new-artist-42"  # the id the docs' gallery examples use
SONG = encode("flac", seconds=7.0, rate=22_050)  # notes: evidence, two segments
EXPERT_LANGUAGES = REPO / "tests" / "whisper_base_languages.json"


@pytest.fixture(scope="module")
def artifact() -> Artifact:
    return load_artifact(REPO / "models")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The bundled model with a gallery holding the docs' enrolled artist."""
    settings = Settings(
        model_dir=REPO / "models",
        execution_provider="cpu",
        intra_op_threads=1,
        inter_op_threads=1,
        gallery_path=tmp_path_factory.mktemp("gallery") / "gallery.sqlite",
        admin_keys=[SecretStr(ADMIN)],
        api_keys=[],
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        enrolled = enrol(test_client, ENROLLED)
        assert enrolled.status_code == 201, enrolled.text
        yield test_client


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def enrol(client: TestClient, artist_id: str, url: str = "/artists") -> Any:
    return client.post(
        url,
        data={"id": artist_id, "name": "New Artist"},
        files=[("file", ("song.flac", SONG, "audio/flac"))],
        headers={"X-API-Key": ADMIN},
    )


def real_answer(client: TestClient, example: Example, request_body: Any) -> Any:
    """The service's answer to the request an example shows (a new artist where it enrols one)."""
    if example.method == "GET":
        response = client.get(example.url)
    elif example.path == "/predict":
        response = client.post(example.url, files={"file": ("song.flac", SONG, "audio/flac")})
    elif example.path == "/artists":
        response = enrol(client, f"doc-{uuid.uuid4().hex[:12]}")
    elif example.path.startswith("/artists/"):
        response = enrol(client, "", url=example.url)
    elif example.path.endswith("/infer"):
        response = client.post(example.url, json=request_body)
    else:
        raise AssertionError(f"{example.where}: no way to ask {example.method} {example.url} here")
    assert response.is_success, f"{example.where}: {example.method} {example.url} answered {response.text}"
    return response.json()


def infer_request(artifact: Artifact) -> Any:
    """The documented /v2 request, its values replaced by as many zeros as its shape holds."""
    (documented,) = [e for e in EXAMPLES if e.kind == "request" and e.path.endswith("/infer")]
    body = dict(documented.body)
    body["inputs"] = [{**t, "data": [0.0] * math.prod(t["shape"])} for t in documented.body["inputs"]]
    return body


def test_the_docs_have_an_example_answer_of_every_core_route() -> None:
    shown = {(e.method, e.path) for e in EXAMPLES if e.succeeded}
    core = {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/labels"),
        ("POST", "/predict"),
        ("POST", "/artists"),
        ("GET", "/artists"),
        ("GET", "/v2/models/songid-multitask"),
        ("POST", "/v2/models/songid-multitask/infer"),
    }
    assert core <= shown, f"no example answer of {sorted(core - shown)}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_json_block_says_what_it_shows(doc: Path) -> None:
    unmarked = [where for where, comment, _ in json_blocks(doc, REPO) if comment is None]
    assert not unmarked, f"JSON blocks with no <!-- answer: ... --> (or other) comment: {unmarked}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.where} {e.method} {e.url}")
def test_example_keys_match_the_schema_and_a_real_answer(
    example: Example, client: TestClient, spec: dict[str, Any], artifact: Artifact
) -> None:
    _, op = operation(spec, example.method, example.path)
    if example.kind == "request":
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        problems = schema_problems(example.body, schema, spec, example.where)
        assert not problems, problems
        return
    success = min(code for code in op["responses"] if code.startswith("2"))
    status = str(example.status) if example.status else success
    assert status in op["responses"], f"{example.where}: the service never answers {status} here"
    schema = resolve(op["responses"][status]["content"]["application/json"]["schema"], spec)
    problems = schema_problems(example.body, schema, spec, example.where)
    assert not problems, problems
    if example.succeeded:
        real = real_answer(client, example, infer_request(artifact))
        problems = key_problems(example.body, real, example.where)
        assert not problems, problems


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(key, value)`` pair of a JSON document, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)


ANSWERS = [e for e in EXAMPLES if e.succeeded]


@pytest.mark.parametrize("example", ANSWERS, ids=lambda e: f"{e.where} {e.method} {e.url}")
def test_example_names_the_bundled_model_and_version(example: Example, artifact: Artifact) -> None:
    info = {"name": artifact.name, "version": artifact.version}
    for key, value in walk(example.body):
        if key == "model" and isinstance(value, dict):
            assert value == info, example.where
        elif key == "model":
            assert value == f"{artifact.name}:{artifact.version}", example.where
        elif key in ("model_name", "model_version", "versions"):
            want = {"model_name": artifact.name, "model_version": str(artifact.version)}
            assert value == want.get(key, [str(artifact.version)]), f"{example.where}: {key}"


def documented_expert_loaded() -> bool:
    """Whether the docs' answers that say it (/labels, /readyz) have the language expert loaded."""
    saying = [e for e in ANSWERS if "language_expert" in e.body]
    said = {e.where: (e.body["language_expert"] or {}).get("state") for e in saying}
    assert len(set(said.values())) <= 1, f"the docs disagree on the language expert: {said}"
    return set(said.values()) == {"loaded"}


def expert_languages() -> list[Label]:
    listed = json.loads(EXPERT_LANGUAGES.read_text(encoding="utf-8"))
    return [Label(id=x["id"], name=x["name"]) for x in listed]


@pytest.fixture(scope="module")
def served(artifact: Artifact) -> tuple[dict[str, list[Label]], dict[str, float | None]]:
    """The labels and open-set thresholds, per task, of the service the docs' answers show."""
    labels = dict(artifact.labels)
    thresholds = {task: rule.threshold for task, rule in artifact.openset.items()}
    if documented_expert_loaded():
        (expert,) = artifact.components.by_role(LANGUAGE_EXPERT)
        (zxx,) = [label for label in artifact.labels["language"] if label.id == NO_LANGUAGE]
        labels["language"] = [zxx, *(x for x in expert_languages() if x.id != NO_LANGUAGE)]
        thresholds["language"] = float(expert.settings["open_set"]["threshold"])
    return labels, thresholds


def test_the_kept_expert_languages_are_the_expert_folders(artifact: Artifact) -> None:
    (expert,) = artifact.components.by_role(LANGUAGE_EXPERT)
    if expert.name in artifact.absent:
        pytest.skip(f"the language expert {expert.name!r} is not in place (songid-expert fetch --model ...)")
    from service.expert.languages import language_labels, whisper_codes  # needs the expert extra

    folder = artifact.root / str(expert.folder())
    assert language_labels(whisper_codes(folder)) == expert_languages()


@pytest.mark.parametrize("example", ANSWERS, ids=lambda e: f"{e.where} {e.method} {e.url}")
def test_example_labels_and_thresholds_are_the_bundled_models(
    example: Example,
    artifact: Artifact,
    served: tuple[dict[str, list[Label]], dict[str, float | None]],
) -> None:
    labels, thresholds = served
    known = {task: {label.id: label.name for label in listed} for task, listed in labels.items()}
    body = example.body
    for task, ranked in body.get("predictions", {}).items():
        wrong = [item for item in ranked if known[task].get(item["label"]) != item["name"]]
        assert not wrong, f"{example.where}: predictions.{task} names labels the model lacks: {wrong}"
    gallery = artifact.centroids.threshold if artifact.centroids else None
    for task, decision in body.get("decisions", {}).items():
        allowed = {None, thresholds.get(task), gallery if task == artifact.gallery_task else None}
        assert decision["threshold"] in allowed, f"{example.where}: decisions.{task}.threshold"
        if decision["status"] == "known" and decision["source"] != "enrolled":
            assert known[task][decision["label"]] == decision["name"], f"{example.where}: decisions.{task}"
    for task, listed in body.get("tasks", {}).items():
        model_order = [{"id": label.id, "name": label.name} for label in labels[task]]
        assert listed == model_order[: len(listed)], f"{example.where}: tasks.{task} (a prefix, in order)"
    for task, rule in body.get("open_set", {}).items():
        assert rule["threshold"] == thresholds[task], f"{example.where}: open_set.{task}"
    if "threshold" in (body.get("gallery") or {}):  # /labels' gallery; /predict's says only its state
        assert body["gallery"]["threshold"] == gallery, f"{example.where}: gallery.threshold"


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.path.startswith("/v2/models/")], ids=lambda e: e.where
)
def test_example_tensor_shapes_follow_the_signature(example: Example, artifact: Artifact) -> None:
    specs = {t.name: list(t.shape) for t in (*artifact.signature.inputs, *artifact.signature.outputs)}
    body = example.body
    if example.kind == "request":
        for tensor in body["inputs"]:
            n, *rest = tensor["shape"]
            assert 1 <= n <= 64 and rest == specs[tensor["name"]], f"{example.where}: {tensor['name']}"
    elif example.succeeded and example.path.endswith("/infer"):
        for tensor in body["outputs"]:
            n, *rest = tensor["shape"]
            assert rest == specs[tensor["name"]], f"{example.where}: {tensor['name']} shape"
            assert len(flat(tensor["data"])) == math.prod(tensor["shape"]), f"{example.where}: data length"
    elif example.succeeded:
        for tensor in (*body["inputs"], *body["outputs"]):
            assert tensor["shape"] == [-1, *specs[tensor["name"]]], f"{example.where}: {tensor['name']}"
        assert [t["name"] for t in body["outputs"]] == artifact.signature.output_names
