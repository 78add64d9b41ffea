"""Equal weighting (EW): the plain sum of the task losses."""

from __future__ import annotations

import torch

from trainer.combiners.base import GradientCombiner
from trainer.registry import implements


@implements("combiner", "ew")
class EqualWeight(GradientCombiner):
    needs_task_gradients = False

    def loss_weights(self, num_tasks: int) -> list[float]:
        return [1.0] * num_tasks

    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        return task_gradients.sum(dim=0)
