"""The songid prediction service: a REST API over the exported ONNX model."""
