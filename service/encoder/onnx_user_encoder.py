"""Runs ``user_encoder.onnx``: item rows (int64 [n]) -> user vector (float32 [dim])."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from shared.user_encoder import INPUT_NAME, OUTPUT_NAME


def bounded_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session over the graph at ``path`` with ``threads`` intra-op threads
    and sequential execution, so that one worker process uses about one core."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class OnnxUserEncoder:
    """An onnxruntime session over a bundle's user encoder, with bounded threads.

    ``InferenceSession.run`` is thread-safe, so one encoder serves every request thread.
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = Path(path)
        self._session = bounded_session(self.path, threads)
        inputs = {i.name for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if INPUT_NAME not in inputs or OUTPUT_NAME not in outputs:
            raise ValueError(
                f"{self.path}: expected input {INPUT_NAME!r} and output {OUTPUT_NAME!r}, "
                f"found inputs {sorted(inputs)} and outputs {sorted(outputs)}"
            )

    def __repr__(self) -> str:
        return f"OnnxUserEncoder(path={str(self.path)!r})"

    def encode(self, item_rows: np.ndarray) -> np.ndarray:
        """The user vector for a non-empty list of item rows."""
        rows = np.ascontiguousarray(item_rows, dtype=np.int64).ravel()
        if rows.size == 0:
            raise ValueError("the user encoder needs at least one item row")
        (vector,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: rows})
        return np.asarray(vector, dtype=np.float32)
