"""AUC, log-loss and gAUC of the ranking stage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trainer.ranking.metrics import auc, gauc, log_loss, task_metrics


def test_auc_counts_ordered_pairs_and_ties_half():
    labels = np.array([1, 0, 1, 0])
    assert auc(labels, np.array([0.9, 0.1, 0.8, 0.2])) == 1.0
    assert auc(labels, np.array([0.1, 0.9, 0.2, 0.8])) == 0.0
    # pairs (pos, neg): (0.9,0.5) win, (0.9,0.9) tie, (0.5,0.5) tie, (0.5,0.9) loss
    assert auc(labels, np.array([0.9, 0.5, 0.5, 0.9])) == pytest.approx(0.5)
    assert math.isnan(auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_log_loss_of_known_probabilities():
    assert log_loss(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(math.log(2))


def test_gauc_weights_users_by_samples_and_skips_one_class_users():
    labels = np.array([1, 0, 0, 1, 0, 1, 1])
    scores = np.array([0.9, 0.1, 0.2, 0.1, 0.5, 0.3, 0.4])
    users = np.array([0, 0, 1, 1, 1, 2, 2])  # user 2 has positives only: skipped
    # user 0: AUC 1 (2 samples); user 1: positive 0.1 below both negatives: AUC 0 (3 samples)
    assert gauc(labels, scores, users) == pytest.approx(2 / 5)
    metrics = task_metrics(("a",), labels[:, None], scores[:, None], users)
    assert metrics["a:gauc"] == pytest.approx(0.4) and "mean_auc" in metrics
