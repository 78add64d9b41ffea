"""Encoders behind one seam, registered by name."""

from __future__ import annotations

import torch

from trainer.data import RecDataset
from trainer.encoders.base import Encoder
from trainer.encoders.lightgcn import LightGCN, normalized_adjacency
from trainer.encoders.mf import MatrixFactorization

ENCODERS = ("mf", "lightgcn")


def build_encoder(
    name: str, dataset: RecDataset, dim: int, layers: int, generator: torch.Generator
) -> Encoder:
    if name == "mf":
        return MatrixFactorization(dataset.num_users, dataset.num_items, dim, generator)
    if name == "lightgcn":
        positives = dataset.train_positive
        adjacency = normalized_adjacency(
            positives.users, positives.items, dataset.num_users, dataset.num_items
        )
        return LightGCN(dataset.num_users, dataset.num_items, dim, generator, adjacency, layers)
    raise ValueError(f"unknown encoder '{name}'; valid names: {', '.join(ENCODERS)}")


__all__ = ["ENCODERS", "Encoder", "LightGCN", "MatrixFactorization", "build_encoder"]
