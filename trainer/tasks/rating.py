"""Rating regression: the dot product of user and item vectors regresses the star rating.

Learns from every training rating, low ones included, so the embeddings also see what a user
disliked. Each step draws as many ratings as the step has positives, uniformly at random. The
target is the star rating, or the star rescaled by the training ratings' range ("unit") or
mean and standard deviation ("standard"): the order of the targets is the same, their scale
that of the dot products (about 0.3 for ALS factors).
"""

from __future__ import annotations

import numpy as np
import torch

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import Task, TaskBatch


def rescaled(ratings: np.ndarray, target: str) -> np.ndarray:
    """The regression targets of ``ratings`` (float32) for a ``rating_target``; a constant
    rating (no spread to rescale by) maps to 0 under unit and standard."""
    ratings = np.asarray(ratings, dtype=np.float32)
    if target == "stars" or len(ratings) == 0:
        return ratings
    if target == "unit":
        low, spread = ratings.min(), ratings.max() - ratings.min()
    elif target == "standard":
        low, spread = ratings.mean(), ratings.std()
    else:
        raise ValueError(f"rating_target must be stars, unit or standard, got '{target}'")
    return ((ratings - low) / (spread if spread > 0 else 1.0)).astype(np.float32)


@implements("task", "rating")
class RatingTask(Task):
    @classmethod
    def from_dataset(
        cls, dataset: RecDataset, name: str, rating_target: str = "stars"
    ) -> RatingTask:
        return cls(dataset.train, rating_target)

    def __init__(self, interactions: Interactions, target: str = "stars"):
        self.users = torch.from_numpy(interactions.users)
        self.items = torch.from_numpy(interactions.items)
        self.ratings = torch.from_numpy(rescaled(interactions.ratings, target))

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
