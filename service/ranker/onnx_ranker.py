"""Runs a format-2 bundle's ``ranker.onnx`` over (user, item) candidates.

The contract is ``shared.bundle.RankerSpec``: input ``categorical`` int64 [n, 2] holding the
user's and the item's bundle row + 1 (0: a user or item the ranker does not know, such as a
cold-start user), an optional ``numeric`` float32 [n, B], and one float32 [n] probability
output per objective, named by the manifest's ``outputs``. ``numeric`` holds the history
features the manifest lists (``history:<behavior>``): 1 where the bundle's
``ranker_history.npz`` has the (user, item) pair for that behavior (the user carted the
item), else 0; an unknown user or item has none.
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

    def __init__(
        self,
        path: Path,
        spec: dict[str, Any],
        threads: int = 1,
        history: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
        num_items: int = 0,
    ) -> None:
        self.path = Path(path)
        # Per history behavior, its pairs as sorted keys user row * num_items + item row.
        self._num_items = int(num_items)
        self._history_keys = [
            _pair_keys(indptr, indices, self._num_items)
            for indptr, indices in (history or {}).values()
        ]
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
            feeds[NUMERIC] = self._history_features(categorical)
        columns = self._session.run(self._output_names, feeds)
        return np.stack([np.asarray(c, dtype=np.float32).reshape(count) for c in columns], axis=1)

    def _history_features(self, categorical: np.ndarray) -> np.ndarray:
        """float32 [n, behaviors]: 1 where (user row, item row) is a pair of the behavior."""
        features = np.zeros((len(categorical), len(self._history_keys)), dtype=np.float32)
        if not self._history_keys or not len(categorical):
            return features
        users, items = categorical[:, 0] - 1, categorical[:, 1] - 1
        known = (users >= 0) & (items >= 0)
        query = users * self._num_items + items
        for column, keys in enumerate(self._history_keys):
            if len(keys):
                found = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
                features[:, column] = (keys[found] == query) & known
        return features


def _pair_keys(indptr: np.ndarray, indices: np.ndarray, num_items: int) -> np.ndarray:
    users = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return np.sort(users * num_items + np.asarray(indices, dtype=np.int64))
