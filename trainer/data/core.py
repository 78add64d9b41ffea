"""Iterative k-core filtering of interactions (the "5-core" of the Amazon review datasets:
He & McAuley, WWW 2016): drop users and items with fewer than k interactions until every
remaining user and item has at least k."""

from __future__ import annotations

import numpy as np


def k_core_mask(users: np.ndarray, items: np.ndarray, k: int) -> np.ndarray:
    """Which (unique) (user, item) pairs survive the iterative k-core."""
    keep = np.ones(len(users), dtype=bool)
    if k <= 1:
        return keep
    num_users, num_items = int(users.max(initial=-1)) + 1, int(items.max(initial=-1)) + 1
    while True:
        user_degree = np.bincount(users[keep], minlength=num_users)
        item_degree = np.bincount(items[keep], minlength=num_items)
        survivors = keep & (user_degree[users] >= k) & (item_degree[items] >= k)
        if np.array_equal(survivors, keep):
            return keep
        keep = survivors
