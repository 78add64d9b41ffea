"""Alignment and uniformity on the hypersphere (DirectAU, Wang et al., KDD 2022).

Alignment pulls the normalised vectors of a user and a positive item together; uniformity
spreads users (and items) over the sphere. Loss = alignment + gamma * (uniform(users) +
uniform(items)) / 2 over the step's positive pairs.

Uniformity is a pairwise term over the whole batch, so in a data-parallel run (``spread``, set by
trainer/training/distributed.py) each rank gathers every rank's vectors of the step (a
differentiable all-gather) and computes the whole batch's term, as one process would: the value
is the one process's, and the gradients flow back to the rank each vector came from.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainer.data import Interactions, RecDataset
from trainer.registry import implements
from trainer.tasks.base import Task, TaskBatch


def alignment(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if len(x) == 0:  # a rank's empty slice of a data-parallel batch
        return x.sum() * 0.0
    x, y = F.normalize(x, dim=-1), F.normalize(y, dim=-1)
    return (x - y).norm(p=2, dim=1).pow(2).mean()


def uniformity(x: torch.Tensor, t: float = 2.0, spread=None) -> torch.Tensor:
    """log of the mean over pairs i < j of exp(-t * ||x_i - x_j||^2), x on the unit sphere.

    Uses ||x_i - x_j||^2 = 2 - 2 x_i.x_j: one matrix product instead of ``torch.pdist``,
    whose backward pass is several times slower; the value is the same. With ``spread`` (a
    ``SpreadBatch``), ``x`` is this rank's slice and the pairs are the whole batch's.
    """
    x = F.normalize(x, dim=-1)
    if spread is not None:
        x = spread.gather(x)
    n = x.shape[0]
    if n < 2:
        return x.sum() * 0.0
    # exp(2t * (x.x^T - 1)) with the scale and shift fused into the matrix product.
    shift = torch.tensor(-2.0 * t, dtype=x.dtype, device=x.device)
    kernel = torch.exp(torch.addmm(shift, x, x.T, alpha=2.0 * t))
    # Diagonal terms are exp(0) = 1 on the unit sphere: subtract n instead of reading them.
    off_diagonal = kernel.sum() - n
    return torch.log(off_diagonal / (n * (n - 1)))


@implements("task", "align_uniform")
class AlignmentUniformityTask(Task):
    @classmethod
    def from_dataset(
        cls, dataset: RecDataset, name: str, au_gamma: float
    ) -> AlignmentUniformityTask:
        return cls(dataset.train_positive, gamma=au_gamma)

    def __init__(self, positives: Interactions, gamma: float = 1.0):
        self.users = torch.from_numpy(positives.users)
        self.items = torch.from_numpy(positives.items)
        self.gamma = gamma
        self.spread = None  # a data-parallel run's SpreadBatch: uniformity over every rank

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        return TaskBatch(
            users={"user": self.users[positive_index]}, items={"item": self.items[positive_index]}
        )

    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        u = users[batch.users["user"]]
        i = items[batch.items["item"]]
        spread = self.spread
        return (
            alignment(u, i)
            + self.gamma * (uniformity(u, spread=spread) + uniformity(i, spread=spread)) / 2
        )

    def __repr__(self) -> str:
        return f"AlignmentUniformityTask(gamma={self.gamma})"
