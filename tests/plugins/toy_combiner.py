"""The toy combiner's implementation (imported by the trainer when the method is used)."""

from __future__ import annotations

import torch

from trainer.combiners.base import GradientCombiner
from trainer.registry import implements


@implements("combiner", "toy")
class ToyCombiner(GradientCombiner):
    needs_task_gradients = False

    def __init__(self, toy_param: float):
        self.toy_param = toy_param

    def loss_weights(self, num_tasks: int) -> list[float]:
        return [1.0] + [self.toy_param] * (num_tasks - 1)

    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        return task_gradients[0] + self.toy_param * task_gradients[1:].sum(dim=0)

    def __repr__(self) -> str:
        return f"ToyCombiner(toy_param={self.toy_param})"
