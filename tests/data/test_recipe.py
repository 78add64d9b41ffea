"""The shared recipe: per-user split, k-core, relations' counts."""

import itertools

import numpy as np

from trainer.data import Interactions
from trainer.data.core import k_core_mask
from trainer.data.relations import GroupRelation, PairRelation, co_member_pairs
from trainer.data.split import SPLIT_SEED, held_out_count, split_per_user


def interactions(counts: list[int], seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(len(counts)), counts)
    items = np.concatenate([np.arange(n) for n in counts])
    ratings = rng.integers(1, 6, len(users)).astype(np.float32)
    return Interactions(users.astype(np.int64), items.astype(np.int64), ratings)


def test_split_is_60_20_20_per_user_and_keeps_a_training_row():
    data = interactions([1, 2, 3, 4, 5, 10, 50])
    train, val, test_all = split_per_user(data, test_threshold=0.0)
    for user, n in enumerate([1, 2, 3, 4, 5, 10, 50]):
        got = [int((s.users == user).sum()) for s in (train, val, test_all)]
        expected_held = int(held_out_count(np.array([n]), 0.2)[0])
        assert got == [n - 2 * expected_held, expected_held, expected_held]
        assert got[0] >= 1


def test_split_is_seeded_and_test_keeps_positives_only():
    data = interactions([20] * 30)
    first = split_per_user(data, test_threshold=3.0)
    again = split_per_user(data, test_threshold=3.0, seed=SPLIT_SEED)
    other = split_per_user(data, test_threshold=3.0, seed=SPLIT_SEED + 1)
    assert all(np.array_equal(a.items, b.items) for a, b in zip(first, again))
    assert not np.array_equal(first[0].items, other[0].items)
    assert first[2].ratings.min() > 3 and first[1].ratings.min() <= 3


def test_k_core_is_iterative():
    # Users 0-4 rate items 0-4; user 5 rates items 0-3 and item 9 (its only rating). Item 9
    # goes first, which leaves user 5 with 4 < 5 ratings: a single pass would keep them.
    users = np.array([u for u in range(5) for _ in range(5)] + [5] * 5)
    items = np.array(list(range(5)) * 5 + [0, 1, 2, 3, 9])
    keep = k_core_mask(users, items, 5)
    assert keep[:25].all() and not keep[25:].any()
    assert k_core_mask(users, items, 1).all()


def test_pair_relation_is_undirected_and_counts_what_it_drops():
    left, right = np.array([0, 1, 2, 3, 4]), np.array([1, 0, 2, 4, 9])
    known = right < 5
    relation = PairRelation.build("user", left, right, known)
    assert relation.pairs.tolist() == [[0, 1], [3, 4]]
    assert relation.dropped == {"unknown_id": 1, "self_link": 1, "repeated_pair": 1}


def test_group_relation_counts_linked_pairs_without_materialising_them():
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 40, 120)
    groups = rng.integers(0, 6, 120)
    relation = GroupRelation.build("item", rows, groups, np.ones(120, dtype=bool))
    brute = {
        tuple(sorted(pair))
        for g in range(6)
        for pair in itertools.combinations(set(rows[groups == g].tolist()), 2)
    }
    assert relation.linked_pairs() == len(brute)
    assert relation.size == len({(r, g) for r, g in zip(rows.tolist(), groups.tolist())})
    left, right = co_member_pairs(relation.members[:, 0], relation.members[:, 1])
    assert {tuple(sorted(p)) for p in zip(left.tolist(), right.tolist())} == brute
