"""Merging duplicate interactions: one (user, item) pair, one interaction.

Rule: the latest rating wins. Rows are ordered by timestamp where the source has one, and by
their position in the file otherwise (or on equal timestamps); the last row of each pair is
kept, so a rating given later replaces an earlier one, as when feedback is updated.
"""

from __future__ import annotations

import numpy as np


def latest_per_pair(
    users: np.ndarray, items: np.ndarray, num_items: int, timestamps: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the rows kept, one per distinct (user, item) pair, sorted by (user, item)."""
    keys = users.astype(np.int64) * num_items + items.astype(np.int64)
    position = np.arange(len(keys))
    when = np.zeros(len(keys)) if timestamps is None else np.asarray(timestamps, dtype=np.float64)
    order = np.lexsort((position, when, keys))
    sorted_keys = keys[order]
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = sorted_keys[1:] != sorted_keys[:-1]
    return order[last]
