"""Matrix factorisation: a user's vector is its embedding row, an item's likewise."""

from __future__ import annotations

import torch

from trainer.encoders.base import Encoder
from trainer.registry import implements


@implements("encoder", "mf")
class MatrixFactorization(Encoder):
    """No parameters beyond the tables."""

    def forward(
        self, user_table: torch.Tensor, item_table: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return user_table, item_table
