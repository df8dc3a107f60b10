"""Property-based conformance of the running app to its own OpenAPI schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.app import create_app
from service.model import SongModel
from tests.service.conftest import make_settings
from tests.service.samples import make_artifact

# Built at import because the schema parametrizes the test; the model is only loaded when
# the first generated request starts the app's lifespan.
_REPO = Path(tempfile.mkdtemp(prefix="songid-openapi-"))
make_artifact(_REPO, embedding=True, centroids=True)
_APP = create_app(
    make_settings(
        _REPO, max_concurrent_requests=4, gallery_path=_REPO / "gallery.sqlite", admin_keys="an-admin-key"
    ),
    model=SongModel(_REPO, provider="cpu", intra_op_threads=1, inter_op_threads=1),
)
schema = schemathesis.openapi.from_dict(_APP.openapi())
schema.app = _APP


@pytest.fixture(scope="module", autouse=True)
def _remove_repo() -> Iterator[None]:
    yield
    shutil.rmtree(_REPO, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Any bytes are a schema-valid `file`, but only audio is accepted: for /predict a 4xx
    # answer to "valid" data is the documented behaviour, not a failure.
    # any bytes fit the schema of an upload or a tensor, but only audio / well-shaped mels are accepted
    accepts_only_valid_content = case.path == "/predict" or case.path.endswith("/infer")
    excluded = [positive_data_acceptance] if accepts_only_valid_content else []
    case.call_and_validate(excluded_checks=excluded)
