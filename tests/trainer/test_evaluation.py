"""Full-ranking evaluation against a brute-force numpy reference."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from shared.metrics import ranking_metrics
from trainer.evaluation import RankingEvaluator


def brute_force(dataset, users, items, split, ks, exclude="positives"):
    scores = users @ items.T
    train = dataset.train_positive if exclude == "positives" else dataset.train
    scores[train.users, train.items] = -np.inf
    held = dataset.positives(split)
    evaluated = np.unique(held.users)
    relevant = {u: set(held.items[held.users == u].tolist()) for u in evaluated}
    order = np.argsort(-scores[evaluated], axis=1, kind="stable")[:, : max(ks)]
    hits = np.array([[i in relevant[u] for i in row] for u, row in zip(evaluated, order)])
    counts = np.array([len(relevant[u]) for u in evaluated])
    return ranking_metrics(hits, counts, ks)


@pytest.mark.parametrize("max_scores", [1 << 24, 61])  # one batch, and many tiny batches
@pytest.mark.parametrize("exclude", ["positives", "seen"])
def test_matches_brute_force(tiny_dataset, max_scores, exclude):
    """eval_exclude=seen leaves every training interaction out, low ratings too."""
    rng = np.random.default_rng(1)
    users = rng.normal(size=(tiny_dataset.num_users, 8)).astype(np.float32)
    items = rng.normal(size=(tiny_dataset.num_items, 8)).astype(np.float32)
    ks = (5, 10, 20)
    evaluator = RankingEvaluator(
        tiny_dataset.positives("test"),
        *tiny_dataset.excluded_csr(exclude),
        tiny_dataset.num_items,
        ks=ks,
        max_scores=max_scores,
    )
    got = evaluator.evaluate(torch.from_numpy(users), torch.from_numpy(items))
    expected = brute_force(tiny_dataset, users, items, "test", ks, exclude)
    assert got == pytest.approx(expected)


def test_catalogue_smaller_than_k(tiny_dataset):
    rng = np.random.default_rng(2)
    users = torch.from_numpy(rng.normal(size=(tiny_dataset.num_users, 4)).astype(np.float32))
    items = torch.from_numpy(rng.normal(size=(tiny_dataset.num_items, 4)).astype(np.float32))
    evaluator = RankingEvaluator(
        tiny_dataset.positives("val"),
        *tiny_dataset.positive_csr(),
        tiny_dataset.num_items,
        ks=(40,),
    )
    metrics = evaluator.evaluate(users, items)
    # 30 items, 8 masked: every held-out item is ranked within the top 40.
    assert metrics["recall@40"] == pytest.approx(1.0)
    assert metrics["hit@40"] == pytest.approx(1.0)


def test_user_sample_equals_brute_force_on_those_users(tiny_dataset):
    """A sampled evaluator scores exactly its users, with their own relevant counts."""
    rng = np.random.default_rng(3)
    users = rng.normal(size=(tiny_dataset.num_users, 8)).astype(np.float32)
    items = rng.normal(size=(tiny_dataset.num_items, 8)).astype(np.float32)
    ks = (5, 10)
    full = RankingEvaluator(
        tiny_dataset.positives("test"), *tiny_dataset.positive_csr(), tiny_dataset.num_items, ks=ks
    )
    sample = full.sample(5, seed=0)
    assert len(sample.users) == 5 and set(sample.users.tolist()) < set(full.users.tolist())
    assert torch.equal(full.sample(5, seed=0).users, sample.users)  # seeded
    assert full.sample(len(full.users), seed=0) is full

    # The brute force restricted to the sampled users (others' vectors cannot matter).
    held = tiny_dataset.positives("test")
    keep = np.isin(held.users, sample.users.numpy())
    restricted = SimpleNamespace(
        train_positive=tiny_dataset.train_positive, positives=lambda split: held.select(keep)
    )
    expected = brute_force(restricted, users, items, "test", ks)
    got = sample.evaluate(torch.from_numpy(users), torch.from_numpy(items))
    assert got == pytest.approx(expected)
    assert got != pytest.approx(full.evaluate(torch.from_numpy(users), torch.from_numpy(items)))


def test_seen_exclusion_differs_where_low_ratings_rank_high(tiny_dataset):
    """Items scored on top that the user rated low take list places under positives only."""
    train = tiny_dataset.train
    low = train.ratings <= tiny_dataset.positive_threshold
    assert low.any()
    items = torch.eye(tiny_dataset.num_items)
    users = torch.zeros(tiny_dataset.num_users, tiny_dataset.num_items)
    users[train.users[low], train.items[low]] = 10.0  # each user's low-rated items on top
    held = tiny_dataset.positives("test")
    users[held.users, held.items] = 1.0
    top = {
        exclude: RankingEvaluator(
            held, *tiny_dataset.excluded_csr(exclude), tiny_dataset.num_items, ks=(1,)
        ).evaluate(users, items)["hit@1"]
        for exclude in ("positives", "seen")
    }
    assert top["seen"] == pytest.approx(1.0)
    assert top["positives"] < top["seen"]


def test_excluded_csr_kinds(tiny_dataset):
    positives, seen = tiny_dataset.excluded_csr("positives"), tiny_dataset.excluded_csr("seen")
    assert all(np.array_equal(a, b) for a, b in zip(positives, tiny_dataset.positive_csr()))
    assert all(np.array_equal(a, b) for a, b in zip(seen, tiny_dataset.seen_csr()))
    assert len(seen[1]) > len(positives[1])
    with pytest.raises(ValueError, match="positives or seen"):
        tiny_dataset.excluded_csr("everything")
