"""Shared audio front end and model-artifact loader (no TensorFlow here)."""
