"""Link prediction over explicit row pairs (trust links, co-view, co-buy, a user's own pair
files): each step draws pairs uniformly, in a random direction (the links are undirected and
the score a . b symmetric), and a negative among the rows not linked to the anchor."""

from __future__ import annotations

import numpy as np
import torch

from trainer.data.relations import PairRelation
from trainer.tasks.link import LinkTask
from trainer.tasks.negative_sampling import NegativeSampler


class PairLinkTask(LinkTask):
    def __init__(self, name: str, relation: PairRelation, num_rows: int, ratio: float = 1.0):
        if relation.size == 0:
            raise ValueError(f"relation '{name}' has no links to learn from")
        super().__init__(name, relation.table, ratio)
        left, right = relation.pairs[:, 0], relation.pairs[:, 1]
        self.left, self.right = torch.from_numpy(left), torch.from_numpy(right)
        # Known partners in both directions, and the row itself, are never drawn as negatives.
        every = np.arange(num_rows, dtype=np.int64)
        self.negatives = NegativeSampler(
            np.concatenate([left, right, every]), np.concatenate([right, left, every]), num_rows
        )

    def draw(
        self, count: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self.left), (count,), generator=generator)
        flip = torch.randint(2, (count,), generator=generator).bool()
        left, right = self.left[index], self.right[index]
        anchor = torch.where(flip, right, left)
        positive = torch.where(flip, left, right)
        return anchor, positive, self.negatives.sample(anchor, generator)
