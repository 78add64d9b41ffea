"""Link prediction over shared groups (same category, same brand) without materialising the
pairs, which grow with the square of a group's size (Epinions' largest category holds 59k
items): each step draws an anchor membership uniformly among groups of two or more rows, a
partner uniformly among the other rows of that group, and a negative among the rows outside
that group (a negative may still share another of the anchor's groups: rare, and it keeps the
check to one sorted-key lookup)."""

from __future__ import annotations

import numpy as np
import torch

from trainer.data.relations import GroupRelation
from trainer.tasks.link import LinkTask
from trainer.tasks.negative_sampling import NegativeSampler


class GroupLinkTask(LinkTask):
    def __init__(self, name: str, relation: GroupRelation, num_rows: int, ratio: float = 1.0):
        super().__init__(name, relation.table, ratio)
        rows, groups = relation.members[:, 0], relation.members[:, 1]  # sorted by group
        sizes = relation.group_sizes()
        anchors = np.flatnonzero(sizes[groups] >= 2)
        if len(anchors) == 0:
            raise ValueError(f"relation '{name}' has no group of two or more rows")
        self.rows, self.groups = torch.from_numpy(rows), torch.from_numpy(groups)
        self.sizes = torch.from_numpy(sizes.astype(np.int64))
        self.starts = torch.from_numpy(
            np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        )
        self.anchors = torch.from_numpy(anchors)
        self.negatives = NegativeSampler(groups, rows, num_rows)

    def draw(
        self, count: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        membership = self.anchors[torch.randint(len(self.anchors), (count,), generator=generator)]
        group = self.groups[membership]
        start, size = self.starts[group], self.sizes[group]
        # A uniform position among the group's size - 1 other members, skipping the anchor's.
        other = (torch.rand(count, generator=generator) * (size - 1)).long().clamp(max=size - 2)
        other += (other >= membership - start).long()
        positive = self.rows[start + other]
        return self.rows[membership], positive, self.negatives.sample(group, generator)
