"""BPR over an auxiliary behavior's (user, item) pairs (cart, view, ...): the multi-behavior
datasets' auxiliary tasks, beside BPR over the target behavior (buy), the main task.

Each step draws as many of the behavior's training pairs as the step has target positives,
uniformly at random, and for each a negative uniform over the items the user has no pair of
that behavior with; the loss is BPR's, -log sigmoid(u.i+ - u.i-).
"""

from __future__ import annotations

import torch

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import TaskBatch
from trainer.tasks.bpr import BPRTask
from trainer.tasks.negative_sampling import NegativeSampler


@implements("task", "behavior")
class BehaviorTask(BPRTask):
    @classmethod
    def from_dataset(cls, dataset: RecDataset, name: str) -> BehaviorTask:
        return cls(name, dataset.behaviors[name], dataset.num_items)

    def __init__(self, name: str, pairs: Interactions, num_items: int):
        if len(pairs) == 0:
            raise ValueError(f"behavior '{name}' has no training pairs to learn from")
        super().__init__(pairs, NegativeSampler(pairs.users, pairs.items, num_items))
        self.name = name

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        index = torch.randint(len(self.users), positive_index.shape, generator=generator)
        return super().sample(index, generator)

    def __repr__(self) -> str:
        return f"BehaviorTask(name={self.name!r}, pairs={len(self.users)})"
