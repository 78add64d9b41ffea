"""GradDrop (Chen et al., NeurIPS 2020, https://arxiv.org/abs/2010.06808): per coordinate,
the positive-sign purity P = (1 + sum_t g_t / sum_t |g_t|) / 2 decides at random (U < P) whether
the positive or the negative task gradients pass; the others are dropped. Lines 10-15 of the
paper's Algorithm 1 (no leak), as TorchJD's ``GradDrop``, with U drawn from the trainer's seeded
generator."""

from __future__ import annotations

import torch

from trainer.combiners.jacobian import JacobianCombiner, seeded
from trainer.registry import implements


@implements("combiner", "graddrop")
class GradDrop(JacobianCombiner):
    def __init__(self, generator: torch.Generator | None = None):
        self.generator = seeded(generator)

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        if jacobian.shape[0] == 0 or jacobian.shape[1] == 0:
            return torch.zeros(jacobian.shape[1], dtype=jacobian.dtype, device=jacobian.device)
        purity = 0.5 * (1 + jacobian.sum(dim=0) / jacobian.abs().sum(dim=0))
        draw = torch.rand(purity.shape, generator=self.generator, dtype=jacobian.dtype)
        draw = draw.to(jacobian.device)
        keep = (purity > draw) * (jacobian > 0) + (purity < draw) * (jacobian < 0)
        return (keep * jacobian).sum(dim=0)

    def __repr__(self) -> str:
        return "GradDrop()"
