"""Uniform negative sampling over the items that are not a user's training positives."""

from __future__ import annotations

import numpy as np
import torch


class NegativeSampler:
    """Draws, for each user, an item uniformly among the items the user has no positive for.

    Membership is checked against sorted ``user * num_items + item`` keys, so memory grows with
    the number of positives, not users x items. Rejected draws are redrawn (a bounded number of
    rounds; a user who has rated nearly every item may keep a positive after the last round).
    """

    def __init__(self, users: np.ndarray, items: np.ndarray, num_items: int, max_rounds: int = 50):
        self.num_items = num_items
        self.max_rounds = max_rounds
        keys = np.unique(users.astype(np.int64) * num_items + items.astype(np.int64))
        self.keys = torch.from_numpy(keys)

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        query = users * self.num_items + items
        position = torch.searchsorted(self.keys, query).clamp(max=len(self.keys) - 1)
        return self.keys[position] == query

    def sample(self, users: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        items = torch.randint(self.num_items, users.shape, generator=generator)
        for _ in range(self.max_rounds):
            clash = self.is_positive(users, items)
            if not clash.any():
                break
            items[clash] = torch.randint(self.num_items, (int(clash.sum()),), generator=generator)
        return items
