"""Bayesian personalised ranking (Rendle et al., UAI 2009): the main task."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import Task, TaskBatch
from trainer.tasks.negative_sampling import NegativeSampler


@implements("task", "bpr")
class BPRTask(Task):
    """-log sigmoid(u.i+ - u.i-), with i- uniform over the user's non-positive items."""

    @classmethod
    def from_dataset(cls, dataset: RecDataset, name: str) -> BPRTask:
        positives = dataset.train_positive
        return cls(positives, NegativeSampler(positives.users, positives.items, dataset.num_items))

    def __init__(self, positives: Interactions, sampler: NegativeSampler):
        self.users = torch.from_numpy(positives.users)
        self.items = torch.from_numpy(positives.items)
        self.sampler = sampler

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        users = self.users[positive_index]
        negatives = self.sampler.sample(users, generator)
        return TaskBatch(
            users={"user": users},
            items={"positive": self.items[positive_index], "negative": negatives},
        )

    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        u = users[batch.users["user"]]
        positive = (u * items[batch.items["positive"]]).sum(dim=1)
        negative = (u * items[batch.items["negative"]]).sum(dim=1)
        return -F.logsigmoid(positive - negative).mean()
