"""Shared-bottom (Caruana 1997): one MLP all tasks share, then a tower per task."""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.layers import init_linear, mlp
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements


@implements("ranker", "shared_bottom")
class SharedBottom(Ranker):
    uses = ("bottom_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        in_dim = self.input_width
        self.bottom = mlp(in_dim, config.bottom_dims, config.dropout)
        self.towers = nn.ModuleList(
            mlp(config.bottom_dims[-1], config.tower_dims, config.dropout, out=1)
            for _ in range(self.num_tasks)
        )
        init_linear(self)

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        shared = self.bottom(embedded.flatten(1))
        return torch.cat([tower(shared) for tower in self.towers], dim=1)

    def shared_modules(self) -> list[nn.Module]:
        return [self.bottom]
