"""Sampled softmax over the step's items: a main task in place of BPR (``main_task=softmax``).

Each training positive of a step is scored against every item of the step (the other
positives' items, in-batch negatives, and ``softmax_negatives`` items drawn uniformly once
for the whole step) and the loss is the cross-entropy of its own item among them, at
temperature ``softmax_temperature``. A candidate equal to the positive's own item (a
repeated item of the batch, or a draw that hits it) is left out of that positive's softmax.
One step compares each positive with thousands of items where BPR compares it with one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import Task, TaskBatch


@implements("task", "softmax")
class SampledSoftmaxTask(Task):
    @classmethod
    def from_dataset(
        cls,
        dataset: RecDataset,
        name: str,
        softmax_temperature: float = 0.1,
        softmax_negatives: int = 1024,
    ) -> SampledSoftmaxTask:
        return cls(
            dataset.train_positive, dataset.num_items, softmax_temperature, softmax_negatives
        )

    def __init__(self, positives: Interactions, num_items: int, temperature: float, negatives: int):
        self.users = torch.from_numpy(positives.users)
        self.items = torch.from_numpy(positives.items)
        self.num_items = num_items
        self.temperature = temperature
        self.negatives = negatives

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        positive = self.items[positive_index]
        drawn = torch.randint(self.num_items, (self.negatives,), generator=generator)
        return TaskBatch(
            users={"user": self.users[positive_index]},
            items={"candidate": torch.cat([positive, drawn])},
            values={"size": torch.tensor(len(positive))},
        )

    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        candidates = batch.items["candidate"]
        size = int(batch.values["size"])
        u = users[batch.users["user"]]
        logits = (u @ items[candidates].T) / self.temperature
        own = candidates[:size]
        # The positive's own item elsewhere among the candidates is no negative.
        clash = own[:, None] == candidates[None, :]
        clash[torch.arange(size), torch.arange(size)] = False
        logits = logits.masked_fill(clash, -torch.inf)
        return F.cross_entropy(logits, torch.arange(size, device=logits.device))
