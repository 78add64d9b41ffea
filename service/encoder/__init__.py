"""The bundle's ONNX cold-start user encoder, run with onnxruntime (no torch)."""

from service.encoder.onnx_user_encoder import OnnxUserEncoder, bounded_session

__all__ = ["OnnxUserEncoder", "bounded_session"]
