"""Runs a format-2 bundle's ``ranker.onnx`` over (user, item) candidates.

The contract is ``shared.bundle.RankerSpec``: input ``categorical`` int64 [n, 2] holding the
user's and the item's bundle row + 1 (0: a user or item the ranker does not know, such as a
cold-start user), an optional ``numeric`` float32 [n, 0], and one float32 [n] probability
output per objective, named by the manifest's ``outputs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from service.encoder import bounded_session

CATEGORICAL = "categorical"
NUMERIC = "numeric"
UNKNOWN_ROW = 0  # the ranker's row of an unknown user or item


class OnnxRanker:
    """An onnxruntime session over a bundle's ranker, with bounded threads.

    ``InferenceSession.run`` is thread-safe and releases the GIL, so one ranker serves every
    request thread. ``objectives`` is the order of the columns ``probabilities`` returns.
    """

    def __init__(self, path: Path, spec: dict[str, Any], threads: int = 1) -> None:
        self.path = Path(path)
        self.objectives: list[str] = [str(name) for name in spec["objectives"]]
        self.target: str = str(spec["target"])
        self.default_weights: dict[str, float] = {
            name: float(spec["default_weights"].get(name, 0.0)) for name in self.objectives
        }
        self._session = bounded_session(self.path, threads)
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        self._output_names = [str(spec["outputs"][name]) for name in self.objectives]
        missing = [name for name in self._output_names if name not in outputs]
        if CATEGORICAL not in inputs or missing or set(inputs) - {CATEGORICAL, NUMERIC}:
            raise ValueError(
                f"{self.path.name}: expected input {CATEGORICAL!r} (and optionally {NUMERIC!r}) "
                f"and outputs {self._output_names}, found inputs {sorted(inputs)} and "
                f"outputs {sorted(outputs)}"
            )
        if len(inputs[CATEGORICAL].shape) != 2:
            raise ValueError(f"{self.path.name}: input {CATEGORICAL!r} must be a matrix [n, 2]")
        self._takes_numeric = NUMERIC in inputs

    def __repr__(self) -> str:
        return f"OnnxRanker(path={str(self.path)!r}, objectives={self.objectives})"

    def probabilities(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """float32 [n, objectives]: each (user row + 1, item row + 1) pair's probability of
        every objective, in one run of the graph."""
        count = len(item_rows)
        categorical = np.empty((count, 2), dtype=np.int64)
        categorical[:, 0] = user_rows
        categorical[:, 1] = item_rows
        feeds = {CATEGORICAL: categorical}
        if self._takes_numeric:
            feeds[NUMERIC] = np.zeros((count, 0), dtype=np.float32)
        columns = self._session.run(self._output_names, feeds)
        return np.stack([np.asarray(c, dtype=np.float32).reshape(count) for c in columns], axis=1)
