"""A tiny two-behavior dataset (buy the target, cart the other behavior) for the two-stage
tests: the tiny retrieval dataset of tests/conftest.py plus cart pairs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_tiny_dataset


@pytest.fixture()
def buy_dataset():
    return make_tiny_dataset()


@pytest.fixture()
def cart_pairs(buy_dataset):
    rng = np.random.default_rng(3)
    return np.stack(
        [rng.integers(0, buy_dataset.num_users, 200), rng.integers(0, buy_dataset.num_items, 200)],
        axis=1,
    )


@pytest.fixture()
def behaviors(buy_dataset, cart_pairs):
    from trainer.twostage import behavior_pairs

    return behavior_pairs(buy_dataset, "buy", {"cart": cart_pairs})
