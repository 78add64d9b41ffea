"""The bundle's ranking stage (``ranker.onnx``), run with onnxruntime (no torch)."""

from service.ranker.onnx_ranker import OnnxRanker

__all__ = ["OnnxRanker"]
