"""Ranking metrics for full-ranking evaluation: Recall, NDCG and HitRate at K.

Every function works on a boolean ``hits`` matrix: ``hits[u, r]`` is true when the item ranked
at position ``r`` (0-based) for user ``u`` is one of the user's held-out items, and on
``num_relevant[u]``, the number of held-out items of user ``u`` (at least 1).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DEFAULT_KS: tuple[int, ...] = (5, 10, 20, 40)
METRIC_NAMES: tuple[str, ...] = ("recall", "ndcg", "hit")


def _check(hits: np.ndarray, num_relevant: np.ndarray, k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if hits.ndim != 2 or hits.shape[1] < k:
        raise ValueError(f"hits must be 2-D with at least k={k} columns, got shape {hits.shape}")
    if num_relevant.shape != (hits.shape[0],):
        raise ValueError("num_relevant must have one entry per row of hits")
    if np.any(num_relevant <= 0):
        raise ValueError("every evaluated user needs at least one held-out item")


def recall_at_k(hits: np.ndarray, num_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: held-out items in the top k / number of held-out items."""
    _check(hits, num_relevant, k)
    return hits[:, :k].sum(axis=1) / num_relevant


def hit_rate_at_k(hits: np.ndarray, num_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: 1 when at least one held-out item is in the top k, else 0."""
    _check(hits, num_relevant, k)
    return hits[:, :k].any(axis=1).astype(np.float64)


def ndcg_at_k(hits: np.ndarray, num_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user: DCG of the top k (binary gains, log2 discount) / the ideal DCG.

    The ideal list puts min(num_relevant, k) held-out items first.
    """
    _check(hits, num_relevant, k)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discount).sum(axis=1)
    ideal_cumulative = np.cumsum(discount)
    idcg = ideal_cumulative[np.minimum(num_relevant, k) - 1]
    return dcg / idcg


_PER_USER = {"recall": recall_at_k, "ndcg": ndcg_at_k, "hit": hit_rate_at_k}


def metric_sums(
    hits: np.ndarray, num_relevant: np.ndarray, ks: Iterable[int] = DEFAULT_KS
) -> dict[str, float]:
    """Sums over users of every metric at every k, keyed like ``"recall@20"``.

    Sums (not means) so that callers can add batches of users and divide once at the end.
    """
    num_relevant = np.asarray(num_relevant)
    return {
        f"{name}@{k}": float(fn(hits, num_relevant, k).sum())
        for k in ks
        for name, fn in _PER_USER.items()
    }


def ranking_metrics(
    hits: np.ndarray, num_relevant: np.ndarray, ks: Iterable[int] = DEFAULT_KS
) -> dict[str, float]:
    """Means over users of every metric at every k, keyed like ``"ndcg@10"``."""
    count = hits.shape[0]
    if count == 0:
        raise ValueError("no users to evaluate")
    return {key: value / count for key, value in metric_sums(hits, num_relevant, ks).items()}
