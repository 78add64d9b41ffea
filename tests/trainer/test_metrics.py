import numpy as np
import pytest

from shared.metrics import hit_rate_at_k, ndcg_at_k, ranking_metrics, recall_at_k


def test_hand_computed_example():
    # User A: 2 held-out items, hits at ranks 1 and 3. User B: 4 held-out, hit at rank 2.
    hits = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
    relevant = np.array([2, 4])
    assert recall_at_k(hits, relevant, 2).tolist() == [0.5, 0.25]
    assert recall_at_k(hits, relevant, 4).tolist() == [1.0, 0.25]
    assert hit_rate_at_k(hits, relevant, 1).tolist() == [1.0, 0.0]
    # A@3: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
    # B@3: DCG = 1/log2(3); IDCG = 1 + 1/log2(3) + 1/log2(4).
    expected = [1.5 / (1 + 1 / np.log2(3)), (1 / np.log2(3)) / (1.5 + 1 / np.log2(3))]
    assert np.allclose(ndcg_at_k(hits, relevant, 3), expected)
    means = ranking_metrics(hits, relevant, ks=(2,))
    assert means["recall@2"] == pytest.approx(0.375)
    assert means["hit@2"] == pytest.approx(1.0)


def test_perfect_ranking_scores_one():
    hits = np.array([[1, 1, 0, 0]], dtype=bool)
    metrics = ranking_metrics(hits, np.array([2]), ks=(2, 4))
    assert metrics["ndcg@2"] == pytest.approx(1.0)
    assert metrics["ndcg@4"] == pytest.approx(1.0)
    assert metrics["recall@4"] == pytest.approx(1.0)


def test_bad_arguments_are_rejected():
    hits = np.zeros((1, 3), dtype=bool)
    with pytest.raises(ValueError, match="k must be positive"):
        recall_at_k(hits, np.array([1]), 0)
    with pytest.raises(ValueError, match="at least k"):
        recall_at_k(hits, np.array([1]), 5)
    with pytest.raises(ValueError, match="held-out"):
        recall_at_k(hits, np.array([0]), 2)
