"""The recommendation service: FastAPI over a model bundle, FAISS search, ONNX cold start.

Never imports torch: it installs and runs with the ``service`` extra alone.
"""
