"""EASE: an item-item linear model in closed form (Steck, WWW 2019).

    G = X^T X + reg * I,   P = G^-1,   B = -P / diag(P) (column-wise),   diag(B) = 0

and a user's scores are ``x_u B``. Its cost is the dense item x item matrices, so a catalogue
whose matrices would need more than the configured memory is refused before any allocation.

Serving: with ``dim`` 0 the bundle is exact: user vectors ``X B``, item vectors the identity,
and the cold-start encoder averages rows of ``B`` (the mean of a history's rows is ``x_h B``
up to a positive factor, so a cold-start ranking equals EASE's own). With ``0 < dim < items``
the bundle serves the rank-``dim`` truncated SVD ``B ~ U S V^T``: user vectors ``X U S``,
item vectors ``V``, cold start over rows of ``U S``; its metrics are measured on what it
serves, so the manifest says what the truncation costs.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.baselines.interactions import interaction_matrix
from trainer.data import RecDataset
from trainer.evaluation import RankingEvaluator
from trainer.training import ConfigError

log = logging.getLogger(__name__)

# Dense float64 item x item matrices alive at the peak: the Gram matrix, its inverse, and
# LAPACK's working copy during the inversion.
_MATRICES_AT_PEAK = 3


def ease_memory_bytes(num_items: int, num_users: int = 0, served_rank: int = 0) -> int:
    """Bytes EASE holds at its peak: the item x item matrices, plus the float32 user table
    of the bundle (``num_users`` x the served rank, one dimension per item when exact)."""
    rank = served_rank or num_items
    return _MATRICES_AT_PEAK * num_items * num_items * 8 + num_users * rank * 4


def check_ease_fits(
    num_items: int, max_memory_gb: float, num_users: int = 0, served_rank: int = 0
) -> None:
    """Refuse, with the limit and the need, a catalogue too large for EASE's matrices."""
    needed = ease_memory_bytes(num_items, num_users, served_rank)
    limit = max_memory_gb * 2**30
    if needed > limit:
        users = ""
        if num_users:
            rank = served_rank or num_items
            users = f" and a {num_users:,} x {rank:,} float32 user table"
        raise ConfigError(
            f"EASE needs {needed / 2**30:,.1f} GiB for {num_items:,} items "
            f"({_MATRICES_AT_PEAK} dense {num_items:,} x {num_items:,} float64 matrices{users}), "
            f"above the limit of {max_memory_gb:g} GiB (--ease-max-gb); use --method als for "
            "this catalogue, or raise the limit on a machine with that much memory"
        )


def ease_weights(matrix, reg: float) -> np.ndarray:
    """The item-item weight matrix B (float64, zero diagonal) of binary interactions."""
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += reg
    inverse = np.linalg.inv(gram)
    del gram
    weights = inverse / -np.diag(inverse)
    del inverse
    weights[np.diag_indices_from(weights)] = 0.0
    return weights


def fit_ease(
    dataset: RecDataset, config: BaselineConfig, monitor: RankingEvaluator
) -> BaselineResult:
    """Fit EASE on the training interactions and shape it into servable vectors."""
    num_items = dataset.num_items
    exact = config.dim == 0 or config.dim >= num_items
    rank = num_items if exact else config.dim
    check_ease_fits(num_items, config.max_memory_gb, dataset.num_users, rank)
    started = time.perf_counter()
    matrix = interaction_matrix(dataset, config.inputs)
    weights = ease_weights(matrix, config.reg)
    if exact:
        items = np.eye(num_items, dtype=np.float32)
        fold_in = weights.astype(np.float32)
    else:
        left, singular, right = np.linalg.svd(weights)
        fold_in = (left[:, : config.dim] * singular[: config.dim]).astype(np.float32)
        items = np.ascontiguousarray(right[: config.dim].T, dtype=np.float32)
    users = np.asarray(matrix @ fold_in, dtype=np.float32)
    seconds = time.perf_counter() - started
    metrics = monitor.evaluate(torch.from_numpy(users), torch.from_numpy(items))
    log.info(
        "ease reg %g (%s) | val recall@20 %.4f ndcg@20 %.4f | %.1fs",
        config.reg,
        "exact" if exact else f"rank {config.dim}",
        metrics["recall@20"],
        metrics["ndcg@20"],
        seconds,
    )
    return BaselineResult(
        config=config,
        user_vectors=users,
        item_vectors=items,
        fold_in_vectors=fold_in,
        val_metrics={},
        history=[metrics[config.monitor]],
        seconds=seconds,
        details={
            "ease": {
                "served_rank": rank,
                "exact": exact,
                "memory_bytes": ease_memory_bytes(num_items, dataset.num_users, rank),
            }
        },
    )
