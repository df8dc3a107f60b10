"""The network's signature: its document, and the checks against labels and the ONNX graph."""

from __future__ import annotations

import pytest

from frontend.labels import from_ids
from frontend.signature import Signature, SignatureError, TensorSpec

LABELS = from_ids({"artist": ["a", "b", "c"], "language": ["en", "fr"]})
EMBEDDING = TensorSpec("embedding", (480,))


def test_heads_then_tensors_and_the_document_round_trips() -> None:
    signature = Signature.for_heads(LABELS, tensors=[EMBEDDING])
    assert signature.heads == ["artist", "language"]
    assert signature.tensors == ["embedding"]
    assert signature.output_names == ["artist", "language", "embedding"]
    document = signature.document()
    assert document["inputs"] == [{"name": "mel", "shape": [187, 96, 1], "datatype": "FP32"}]
    assert document["outputs"][2] == {
        "name": "embedding",
        "shape": [480],
        "datatype": "FP32",
        "kind": "tensor",
    }
    assert Signature.from_document(document, where="x") == signature
    assert signature.mismatches(LABELS) == []


def test_disagreements_with_labels_are_named() -> None:
    wrong_width = Signature.for_heads(from_ids({"artist": ["a", "b"], "language": ["en", "fr"]}))
    assert wrong_width.mismatches(LABELS) == ["head 'artist' has shape [2] but labels.json lists 3 labels"]
    reordered = Signature.for_heads(from_ids({"language": ["en", "fr"], "artist": ["a", "b", "c"]}))
    assert "are not the tasks of labels.json" in reordered.mismatches(LABELS)[0]
    other_input = Signature((TensorSpec("mel", (128, 96, 1)),), Signature.for_heads(LABELS).outputs)
    assert "inputs must be 'mel' [187, 96, 1]" in other_input.mismatches(LABELS)[0]


@pytest.mark.parametrize(
    "document",
    [
        {"inputs": []},
        {"inputs": [{"name": "mel", "shape": [187, 96, 1]}], "outputs": [{"name": "x", "shape": ["a"]}]},
        {"inputs": [], "outputs": [{"name": "x", "shape": [2], "kind": "logits"}]},
        [],
    ],
)
def test_malformed_documents_are_refused_naming_the_source(document: object) -> None:
    with pytest.raises(SignatureError, match=r"^sig\.json: "):
        Signature.from_document(document, where="sig.json")


def test_graph_mismatches_ignore_dynamic_axes_and_name_the_rest() -> None:
    signature = Signature.for_heads(LABELS, tensors=[EMBEDDING])
    inputs = {"mel": ["N", 187, 96, 1]}
    outputs = {"artist": ["N", 3], "language": [None, 2], "embedding": ["N", 480]}
    assert signature.graph_mismatches(inputs, outputs) == []
    del outputs["embedding"]
    outputs["language"] = ["N", 5]
    assert signature.graph_mismatches(inputs, outputs) == [
        "output 'language' has shape ['N', 5], expected [N, 2]",
        "no output named 'embedding' (has ['artist', 'language'])",
    ]
