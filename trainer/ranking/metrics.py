"""Ranking-stage metrics per task: AUC, log-loss, and gAUC when samples name their user."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

_EPS = 1e-7


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with one class."""
    labels = np.asarray(labels) > 0.5
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _EPS, 1 - _EPS)
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def gauc(labels: np.ndarray, scores: np.ndarray, users: np.ndarray) -> float:
    """Per-user AUC weighted by the user's sample count; users with one class are skipped."""
    order = np.argsort(users, kind="stable")
    users, labels, scores = users[order], np.asarray(labels)[order], np.asarray(scores)[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    total, weight = 0.0, 0
    for start, end in zip(starts, ends):
        value = auc(labels[start:end], scores[start:end])
        if not np.isnan(value):
            total += value * (end - start)
            weight += end - start
    return total / weight if weight else float("nan")


def task_metrics(
    tasks: tuple[str, ...],
    labels: np.ndarray,
    probabilities: np.ndarray,
    users: np.ndarray | None = None,
) -> dict[str, float]:
    """``{task}:auc``, ``{task}:logloss`` (and ``{task}:gauc``) per task, and ``mean_auc``."""
    metrics: dict[str, float] = {}
    for t, task in enumerate(tasks):
        metrics[f"{task}:auc"] = auc(labels[:, t], probabilities[:, t])
        metrics[f"{task}:logloss"] = log_loss(labels[:, t], probabilities[:, t])
        if users is not None:
            metrics[f"{task}:gauc"] = gauc(labels[:, t], probabilities[:, t], users)
    metrics["mean_auc"] = float(np.mean([metrics[f"{task}:auc"] for task in tasks]))
    return metrics
