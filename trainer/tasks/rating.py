"""Rating regression: the dot product of user and item vectors regresses the star rating.

Learns from every training rating, low ones included, so the embeddings also see what a user
disliked. Each step draws as many ratings as the step has positives, uniformly at random.
"""

from __future__ import annotations

import torch

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import Task, TaskBatch


@implements("task", "rating")
class RatingTask(Task):
    @classmethod
    def from_dataset(cls, dataset: RecDataset, name: str) -> RatingTask:
        return cls(dataset.train)

    def __init__(self, interactions: Interactions):
        self.users = torch.from_numpy(interactions.users)
        self.items = torch.from_numpy(interactions.items)
        self.ratings = torch.from_numpy(interactions.ratings)

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        index = torch.randint(len(self.ratings), positive_index.shape, generator=generator)
        return TaskBatch(
            users={"user": self.users[index]},
            items={"item": self.items[index]},
            values={"rating": self.ratings[index]},
        )

    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        predicted = (users[batch.users["user"]] * items[batch.items["item"]]).sum(dim=1)
        return (predicted - batch.values["rating"]).pow(2).mean()
