"""The encoder seam: trainable user/item embedding tables and how they become vectors."""

from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """Owns the user and item embedding tables (Xavier-initialised) and encodes them.

    ``forward(user_table, item_table)`` maps tables to final user/item vectors. When
    ``row_local`` is true the final vector of a row depends on that row alone (MF), so the
    trainer may encode only the rows a batch touches; otherwise it encodes whole tables.
    """

    row_local: bool = True

    def __init__(self, num_users: int, num_items: int, dim: int, generator: torch.Generator):
        super().__init__()
        self.user_embedding = nn.Parameter(torch.empty(num_users, dim))
        self.item_embedding = nn.Parameter(torch.empty(num_items, dim))
        nn.init.xavier_uniform_(self.user_embedding, generator=generator)
        nn.init.xavier_uniform_(self.item_embedding, generator=generator)

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

    row_local = False

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
        if layers < 1:
            raise ValueError(f"{type(self).__name__} needs at least one layer, got {layers}")
        self.layers = layers
        self.register_buffer("adjacency", adjacency, persistent=False)
