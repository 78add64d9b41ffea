"""The random 60/20/20 split per user of the paper's data (the recipe behind the published
Office split, YangLiangwei/GraphAU): each user's interactions are shuffled with a fixed seed
and cut into train / validation / test; the test split then keeps only positive ratings."""

from __future__ import annotations

import numpy as np

from trainer.data.interactions import Interactions

# The seed of every split this module makes. Fixed, so that a dataset's split is the same on
# every machine and for every training seed (training seeds vary the model, not the data).
SPLIT_SEED = 2024
FRACTIONS = (0.6, 0.2, 0.2)


def held_out_count(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Interactions a user of ``counts`` interactions gives to a held-out split: the fraction
    rounded half up, so users with 1 or 2 interactions keep them all for training."""
    return np.floor(counts * fraction + 0.5).astype(np.int64)


def split_per_user(
    interactions: Interactions,
    test_threshold: float,
    seed: int = SPLIT_SEED,
    fractions: tuple[float, float, float] = FRACTIONS,
) -> tuple[Interactions, Interactions, Interactions]:
    """(train, val, test). Every user keeps at least one training interaction; validation
    keeps every rating, test only ratings above ``test_threshold`` (the others are dropped,
    as in the Office recipe). The result depends on the input order only through ties, so
    pass the interactions sorted (the loaders sort them by (user, item))."""
    users = interactions.users
    draw = np.random.default_rng(seed).random(len(users))
    order = np.lexsort((draw, users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, len(users)])
    rank = np.arange(len(users)) - np.repeat(starts, counts)
    per_row = np.repeat(counts, counts)
    num_test = held_out_count(per_row, fractions[2])
    num_val = held_out_count(per_row, fractions[1])
    part = np.empty(len(users), dtype=np.int8)
    part[order] = np.where(rank < num_test, 2, np.where(rank < num_test + num_val, 1, 0))
    train, val, test = (interactions.select(part == p) for p in range(3))
    return train, val, test.select(test.ratings > test_threshold)


def hold_out_one_per_user(
    interactions: Interactions, seed: int = SPLIT_SEED
) -> tuple[Interactions, Interactions]:
    """(kept, held out): one interaction per user drawn uniformly with the fixed ``seed``,
    held out; a user with a single interaction keeps it. The leave-one-out validation split
    of the multi-behavior datasets. Pass the interactions sorted by (user, item): the draw
    then depends on nothing else."""
    users = interactions.users
    draw = np.random.default_rng(seed).random(len(users))
    order = np.lexsort((draw, users))
    sorted_users = users[order]
    first = np.r_[True, sorted_users[1:] != sorted_users[:-1]]
    counts = np.bincount(sorted_users, minlength=int(users.max(initial=-1)) + 1)
    held = np.zeros(len(users), dtype=bool)
    held[order[first & (counts[sorted_users] >= 2)]] = True
    return interactions.select(~held), interactions.select(held)
