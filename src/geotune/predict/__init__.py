"""Loaded models, batch and sliding-window inference, ONNX export."""
