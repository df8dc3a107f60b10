from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.samples import LABELS


def test_labels_lists_every_task(client: TestClient) -> None:
    response = client.get("/labels")
    assert response.status_code == 200
    assert response.json() == {
        "model": {"name": "songid-test", "version": 1},
        "tasks": LABELS,
        "open_set": {},  # the sample model folder has no openset.json: every task is closed set
        "gallery": None,  # no gallery configured
        "language_expert": None,  # the model lists no language expert
    }
