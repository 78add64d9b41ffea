"""Random loss weighting (RLW; Lin et al., TMLR 2022, https://arxiv.org/abs/2111.10603):
each step sums the task gradients with weights softmax(z), z ~ N(0, I), drawn anew per step
from the trainer's seeded generator (the weights of TorchJD's ``Random`` aggregator)."""

from __future__ import annotations

import torch

from trainer.combiners.jacobian import JacobianCombiner, seeded
from trainer.registry import implements


@implements("combiner", "rlw")
class RLW(JacobianCombiner):
    def __init__(self, generator: torch.Generator | None = None):
        self.generator = seeded(generator)

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        z = torch.randn(jacobian.shape[0], generator=self.generator, dtype=jacobian.dtype)
        return torch.softmax(z, dim=0).to(jacobian.device) @ jacobian

    def __repr__(self) -> str:
        return "RLW()"
