"""LightGCN (He et al., SIGIR 2020): embeddings propagated over the normalised user-item graph.

Final vectors are the mean of layers 0..L of E^(l+1) = D^-1/2 A D^-1/2 E^(l), where A is the
symmetric bipartite adjacency of the training positives.
"""

from __future__ import annotations

import torch

from trainer.encoders.base import GraphEncoder
from trainer.registry import implements


@implements("encoder", "lightgcn")
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
