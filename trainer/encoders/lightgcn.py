"""LightGCN (He et al., SIGIR 2020): embeddings propagated over the normalised user-item graph.

Final vectors are the mean of layers 0..L of E^(l+1) = D^-1/2 A D^-1/2 E^(l), where A is the
symmetric bipartite adjacency of the training positives.
"""

from __future__ import annotations

import numpy as np
import torch

from trainer.encoders.base import GraphEncoder


def normalized_adjacency(
    users: np.ndarray, items: np.ndarray, num_users: int, num_items: int
) -> torch.Tensor:
    """Sparse D^-1/2 A D^-1/2 over users then items, from unique (user, item) pairs."""
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1] + num_users])
    cols = np.concatenate([pairs[:, 1] + num_users, pairs[:, 0]])
    size = num_users + num_items
    degree = np.bincount(rows, minlength=size).astype(np.float64)
    inv_sqrt = np.zeros_like(degree)
    inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    values = (inv_sqrt[rows] * inv_sqrt[cols]).astype(np.float32)
    indices = torch.from_numpy(np.stack([rows, cols]).astype(np.int64))
    return torch.sparse_coo_tensor(
        indices, torch.from_numpy(values), (size, size), check_invariants=True
    ).coalesce()


class LightGCN(GraphEncoder):
    def forward(
        self, user_table: torch.Tensor, item_table: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        layer = torch.cat([user_table, item_table])
        total = layer
        for _ in range(self.layers):
            layer = torch.sparse.mm(self.adjacency, layer)
            total = total + layer
        final = total / (self.layers + 1)
        return final[: user_table.shape[0]], final[user_table.shape[0] :]
