"""The FAISS item index: exact equals numpy, exclusion keeps lists full, HNSW recall."""

from __future__ import annotations

import numpy as np
import pytest

from service.index import ItemIndex, build_item_index, choose_index_kind
from service.index.item_index import _without


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2000, 16)).astype(np.float32), rng.normal(size=(40, 16)).astype(
        np.float32
    )


def test_index_kind_by_setting_and_catalog_size():
    assert choose_index_kind(10, "auto", exact_max_items=100) == "exact"
    assert choose_index_kind(101, "auto", exact_max_items=100) == "hnsw"
    assert choose_index_kind(10, "hnsw", exact_max_items=100) == "hnsw"
    assert choose_index_kind(10**6, "exact", exact_max_items=100) == "exact"
    with pytest.raises(ValueError, match="unknown index kind"):
        choose_index_kind(10, "ivf", exact_max_items=100)


def test_exact_search_with_exclusion_equals_numpy(vectors):
    items, queries = vectors
    index = build_item_index(items, "exact")
    rng = np.random.default_rng(1)
    exclude = [rng.choice(len(items), size=rng.integers(0, 300), replace=False) for _ in queries]
    result = index.search(queries, 25, exclude)  # a batch: one FAISS call
    alone = [index.search(q, 25, [e]) for q, e in zip(queries, exclude)]
    scores = queries @ items.T
    for i, excluded in enumerate(exclude):
        assert alone[i].rows[0] == result.rows[i]
        np.testing.assert_allclose(alone[i].scores[0], result.scores[i], atol=1e-5)
        scores[i, excluded] = -np.inf
        expected = np.argsort(-scores[i])[:25]
        assert len(result.rows[i]) == 25
        assert not set(result.rows[i]) & set(excluded.tolist())
        np.testing.assert_allclose(result.scores[i], scores[i, expected], atol=1e-5)
        assert set(result.rows[i]) == set(expected.tolist())


def test_lists_stay_full_until_the_catalog_runs_out():
    items = np.eye(6, dtype=np.float32)
    index = ItemIndex(items, "exact")
    result = index.search(
        np.ones((2, 6), dtype=np.float32), [4, 10], [np.array([0, 1, 1]), np.array([2])]
    )
    assert sorted(result.rows[0]) == [2, 3, 4, 5]
    assert sorted(result.rows[1]) == [0, 1, 3, 4, 5]  # 6 items, 1 excluded
    everything = index.search(np.ones(6, dtype=np.float32), 3, [np.arange(6)])
    assert everything.rows[0] == []


def test_hnsw_recall_and_full_lists_with_exclusion(vectors):
    items, queries = vectors
    exact = ItemIndex(items, "exact")
    approximate = ItemIndex(items, "hnsw", hnsw_m=16, hnsw_ef_search=64)
    excluded = [np.arange(i, 1000, 7) for i in range(len(queries))]  # ~143 rows each
    truth = exact.search(queries, 10, excluded)
    found = approximate.search(queries, 10, excluded)
    hits = [len(set(a) & set(b)) for a, b in zip(truth.rows, found.rows)]
    assert all(len(rows) == 10 for rows in found.rows)
    assert not any(set(r) & set(e.tolist()) for r, e in zip(found.rows, excluded))
    assert np.mean(hits) / 10 >= 0.9


def test_short_approximate_answer_is_topped_up_exactly(vectors, monkeypatch):
    items, queries = vectors
    index = ItemIndex(items, "hnsw", hnsw_m=8, hnsw_ef_search=16)
    real_search = index._search

    def lossy_search(q, fetch):  # as if the graph walk found only 3 candidates
        scores, rows = real_search(q, fetch)
        rows[:, 3:] = -1
        return scores, rows

    monkeypatch.setattr(index, "_search", lossy_search)
    result = index.search(queries[:2], 10, [np.array([0]), np.array([], dtype=np.int64)])
    expected = ItemIndex(items, "exact").search(queries[:2], 10, [np.array([0]), np.array([])])
    for got, want in zip(result.rows, expected.rows):
        assert got == want


def test_without_drops_missing_and_excluded_rows_and_keeps_the_order():
    rows, scores = [5, 3, -1, 9, 7, -1], [0.9, 0.8, 0.0, 0.6, 0.5, 0.0]
    assert _without(list(rows), list(scores), {3, 7, 42}, 10) == ([5, 9], [0.9, 0.6])
    assert _without(list(rows), list(scores), set(), 2) == ([5, 3], [0.9, 0.8])
    assert _without([4, 2, 8], [3.0, 2.0, 1.0], {4}, 1) == ([2], [2.0])
