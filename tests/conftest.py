"""Fixtures shared by every test module: data locations and small synthetic datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from shared.registry import COMBINERS, load_plugins

REPO = Path(__file__).resolve().parent.parent


def real_data_dir() -> Path | None:
    """The real datasets' folder from PMTREC_DATA_DIR, or None when it is not set up."""
    value = os.environ.get("PMTREC_DATA_DIR")
    return Path(value) if value and (Path(value) / "office").is_dir() else None


@pytest.fixture
def toy_declared():
    """The plug-in's declaration loaded into this process, and forgotten afterwards."""
    load_plugins(["tests.plugins.toy"])
    yield COMBINERS.get("toy")
    from shared import registry

    COMBINERS.remove("toy")
    registry._LOADED_PLUGINS.discard("tests.plugins.toy")
    sys.modules.pop("tests.plugins.toy", None)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = real_data_dir()
    if path is None:
        pytest.skip("PMTREC_DATA_DIR does not point at the real datasets")
    return path


@pytest.fixture(scope="session")
def office(data_dir):
    from trainer.data import load_dataset

    return load_dataset("office", data_dir, allow_download=False)


@pytest.fixture
def tiny_dataset():
    """A small random dataset (for mechanics only; quality is measured on real data)."""
    return make_tiny_dataset()


def make_tiny_dataset():
    """The ``tiny_dataset`` fixture's data, for code that runs outside pytest's fixtures (the
    ranks of a data-parallel test)."""
    from trainer.data import Interactions, RecDataset

    rng = np.random.default_rng(7)
    num_users, num_items = 40, 30

    def split(per_user: int, low_ratings: bool) -> Interactions:
        users = np.repeat(np.arange(num_users), per_user)
        items = np.concatenate(
            [rng.choice(num_items, per_user, replace=False) for _ in range(num_users)]
        )
        ratings = rng.integers(1 if low_ratings else 4, 6, len(users)).astype(np.float32)
        return Interactions(users.astype(np.int64), items.astype(np.int64), ratings)

    train, held_out = split(8, True), split(3, False)
    # Held-out pairs never repeat a training pair.
    train_keys = set(zip(train.users.tolist(), train.items.tolist()))
    keep = np.array([(u, i) not in train_keys for u, i in zip(held_out.users, held_out.items)])
    held_out = held_out.select(keep)
    half = np.arange(len(held_out)) % 2 == 0
    return RecDataset(
        name="tiny",
        user_ids=[f"u{i}" for i in range(num_users)],
        item_ids=[f"i{i}" for i in range(num_items)],
        train=train,
        val=held_out.select(half),
        test=held_out.select(~half),
        positive_threshold=3.0,
    )
