"""The bundle's ONNX cold-start user encoder, run with onnxruntime (no torch)."""

from service.encoder.onnx_user_encoder import OnnxUserEncoder

__all__ = ["OnnxUserEncoder"]
