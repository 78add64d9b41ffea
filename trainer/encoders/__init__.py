"""Encoders behind one seam, registered by name."""

from __future__ import annotations

import torch

from trainer.data import RecDataset
from trainer.encoders.base import Encoder
from trainer.encoders.lightgcn import LightGCN, normalized_adjacency
from trainer.encoders.mf import MatrixFactorization
from trainer.encoders.ngcf import NGCF

ENCODERS = ("mf", "lightgcn", "ngcf")


def build_encoder(
    name: str, dataset: RecDataset, dim: int, layers: int, generator: torch.Generator
) -> Encoder:
    if name == "mf":
        return MatrixFactorization(dataset.num_users, dataset.num_items, dim, generator)
    if name in ("lightgcn", "ngcf"):
        positives = dataset.train_positive
        adjacency = normalized_adjacency(
            positives.users, positives.items, dataset.num_users, dataset.num_items
        )
        cls = LightGCN if name == "lightgcn" else NGCF
        return cls(dataset.num_users, dataset.num_items, dim, generator, adjacency, layers)
    raise ValueError(f"unknown encoder '{name}'; valid names: {', '.join(ENCODERS)}")


__all__ = ["ENCODERS", "NGCF", "Encoder", "LightGCN", "MatrixFactorization", "build_encoder"]
