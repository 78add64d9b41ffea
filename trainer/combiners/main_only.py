"""The main (BPR) task alone; auxiliary tasks are ignored."""

from __future__ import annotations

import torch

from trainer.combiners.base import GradientCombiner
from trainer.registry import implements


@implements("combiner", "bpr")
class MainTaskOnly(GradientCombiner):
    needs_task_gradients = False
    uses_auxiliary_tasks = False

    def loss_weights(self, num_tasks: int) -> list[float]:
        return [1.0] + [0.0] * (num_tasks - 1)

    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        return task_gradients[0]
