"""Small synthetic ranking datasets: two labels that depend on the features, an optional user
id; for mechanics (shapes, gradients, export), not quality."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer.ranking.samples import FeatureSchema, RankingDataset, Samples


def make_dataset(rows: int = 256, with_user: bool = False, seed: int = 0) -> RankingDataset:
    rng = np.random.default_rng(seed)
    names = ["user", "colour", "size"] if with_user else ["colour", "size"]
    cardinalities = [13, 5, 4] if with_user else [5, 4]
    schema = FeatureSchema(
        categorical=tuple(names),
        cardinalities=tuple(cardinalities),
        numeric=("price", "age"),
        tasks=("click", "buy"),
        user_feature="user" if with_user else None,
    )

    def split(n: int) -> Samples:
        categorical = np.stack([rng.integers(1, c, n) for c in cardinalities], axis=1)
        numeric = rng.normal(size=(n, 2)).astype(np.float32)
        score = numeric[:, 0] + (categorical[:, -1] == 2)
        click = (score + rng.normal(scale=0.5, size=n) > 0.5).astype(np.float32)
        buy = (click * (numeric[:, 1] > 0)).astype(np.float32)
        return Samples(categorical.astype(np.int64), numeric, np.stack([click, buy], axis=1))

    return RankingDataset("tiny", schema, split(rows), split(rows // 2), split(rows // 2))


@pytest.fixture
def tiny_ranking():
    torch.manual_seed(0)
    return make_dataset()


@pytest.fixture
def tiny_ranking_users():
    torch.manual_seed(0)
    return make_dataset(with_user=True)


def batch(dataset: RankingDataset, rows: int = 64):
    samples = dataset.train
    return (
        torch.from_numpy(samples.categorical[:rows]),
        torch.from_numpy(samples.numeric[:rows]),
        torch.from_numpy(samples.labels[:rows]),
    )
