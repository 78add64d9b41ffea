"""PCGrad (Yu et al., NeurIPS 2020, https://arxiv.org/abs/2001.06782): each task's gradient is
projected onto the normal plane of every other task gradient it conflicts with (negative inner
product), in a random order, and the projected gradients are summed. Algorithm 1 of the paper,
as TorchJD's ``PCGrad`` computes it (on the Gram matrix), with the random orders drawn from the
trainer's seeded generator."""

from __future__ import annotations

import torch

from trainer.combiners.jacobian import JacobianCombiner, seeded
from trainer.registry import implements


def pcgrad_weights(gram: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The weight of each task gradient in the sum of the projected ones ([tasks, tasks] Gram
    matrix on the CPU)."""
    tasks = gram.shape[0]
    weights = torch.zeros(tasks, dtype=gram.dtype)
    for i in range(tasks):
        current = torch.zeros(tasks, dtype=gram.dtype)
        current[i] = 1.0
        for j in torch.randperm(tasks, generator=generator).tolist():
            if j == i:
                continue
            inner = gram[j] @ current
            if inner < 0.0:
                current[j] -= inner / gram[j, j]
        weights = weights + current
    return weights


@implements("combiner", "pcgrad")
class PCGrad(JacobianCombiner):
    def __init__(self, generator: torch.Generator | None = None):
        self.generator = seeded(generator)

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        gram = (jacobian @ jacobian.T).cpu()
        return pcgrad_weights(gram, self.generator).to(jacobian) @ jacobian

    def __repr__(self) -> str:
        return "PCGrad()"
