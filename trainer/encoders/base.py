"""The encoder seam: trainable user/item embedding tables and how they become vectors."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from shared.registry import Component
    from trainer.data import RecDataset


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


class Encoder(nn.Module):
    """Owns the user and item embedding tables (Xavier-initialised) and encodes them.

    ``forward(user_table, item_table)`` maps tables to final user/item vectors. When the
    declaration says ``row_local`` the final vector of a row depends on that row alone (MF),
    so the trainer may encode only the rows a batch touches; otherwise it encodes whole tables.
    ``from_dataset`` builds one from the declared hyper-parameters.
    """

    # Set by trainer.registry.implements from the declaration (shared/components.py).
    name: ClassVar[str]
    component: ClassVar[Component]

    def __init__(self, num_users: int, num_items: int, dim: int, generator: torch.Generator):
        super().__init__()
        self.user_embedding = nn.Parameter(torch.empty(num_users, dim))
        self.item_embedding = nn.Parameter(torch.empty(num_items, dim))
        nn.init.xavier_uniform_(self.user_embedding, generator=generator)
        nn.init.xavier_uniform_(self.item_embedding, generator=generator)

    @classmethod
    def from_dataset(cls, dataset: RecDataset, dim: int, generator: torch.Generator) -> Encoder:
        return cls(dataset.num_users, dataset.num_items, dim, generator)

    @property
    def row_local(self) -> bool:
        return bool(self.component.extra.get("row_local", False))

    def forward(
        self, user_table: torch.Tensor, item_table: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def dense_parameters(self) -> tuple[nn.Parameter, ...]:
        """Trainable parameters besides the two embedding tables (none for MF and LightGCN)."""
        return ()

    @torch.no_grad()
    def final_vectors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final user and item vectors used for ranking and export."""
        users, items = self(self.user_embedding, self.item_embedding)
        return users.detach(), items.detach()

    def __repr__(self) -> str:
        users, dim = self.user_embedding.shape
        return (
            f"{type(self).__name__}(users={users}, items={self.item_embedding.shape[0]}, dim={dim})"
        )


class GraphEncoder(Encoder):
    """An encoder that propagates embeddings over the normalised user-item graph."""

    @classmethod
    def from_dataset(
        cls, dataset: RecDataset, dim: int, generator: torch.Generator, layers: int
    ) -> GraphEncoder:
        positives = dataset.train_positive
        adjacency = normalized_adjacency(
            positives.users, positives.items, dataset.num_users, dataset.num_items
        )
        return cls(dataset.num_users, dataset.num_items, dim, generator, adjacency, layers)

    def __init__(
        self,
        num_users: int,
        num_items: int,
        dim: int,
        generator: torch.Generator,
        adjacency: torch.Tensor,
        layers: int = 3,
    ):
        super().__init__(num_users, num_items, dim, generator)
        self.layers = layers
        self.register_buffer("adjacency", adjacency, persistent=False)
