"""Fixtures: a real (tiny) model folder, a loaded model, and apps built on them."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The test client's transport notice is about a future Starlette, not about this code.
warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
from fastapi.testclient import TestClient  # noqa: E402

from service.app import create_app  # noqa: E402
from service.model import SongModel  # noqa: E402
from service.settings import Settings  # noqa: E402
from tests.service.samples import encode, make_artifact  # noqa: E402

AppFactory = Callable[..., TestClient]


@pytest.fixture(autouse=True)
def _no_songid_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, never from the environment running it."""
    for name in list(os.environ):
        if name.startswith("SONGID_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def model_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Triton-style repository folder holding one model, as ``models/`` will."""
    repo = tmp_path_factory.mktemp("models")
    make_artifact(repo)
    return repo


@pytest.fixture(scope="session")
def loaded_model(model_repo: Path) -> SongModel:
    model = SongModel(model_repo, provider="cpu", intra_op_threads=1, inter_op_threads=1)
    model.load()
    return model


def make_settings(model_repo: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model_dir": model_repo,
        "execution_provider": "cpu",
        "intra_op_threads": 1,
        "inter_op_threads": 1,
        "request_timeout_s": 30.0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_client(model_repo: Path, loaded_model: SongModel) -> Iterator[AppFactory]:
    """Build a started app (lifespan run) with settings overrides; all are stopped afterwards."""
    stack: list[TestClient] = []

    def factory(*, model: SongModel | None = None, **overrides: Any) -> TestClient:
        app = create_app(make_settings(model_repo, **overrides), model=model or loaded_model)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        stack.append(client)
        return client

    yield factory
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture(scope="session")
def wav_bytes() -> bytes:
    return encode("wav", seconds=7.0)


def upload(
    client: TestClient,
    data: bytes,
    *,
    filename: str = "song.wav",
    params: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/octet-stream",
):
    return client.post(
        "/predict", files={"file": (filename, data, content_type)}, params=params, headers=headers
    )
