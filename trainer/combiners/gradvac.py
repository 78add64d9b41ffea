"""Gradient vaccine (GradVac; Wang et al., ICLR 2021, https://arxiv.org/abs/2010.05874): for
each pair of tasks whose gradient cosine similarity falls below an exponential moving average
target, the gradient is moved towards the other to reach the target; the EMA (rate ``beta``)
is updated every step. As TorchJD's ``GradVac`` computes it (on the Gram matrix, the other tasks
visited in a random order, here drawn from the trainer's seeded generator), over the whole
parameter vector (the paper also applies it per layer; here the shared parameters are one
block, the embedding tables)."""

from __future__ import annotations

import torch

from trainer.combiners.jacobian import JacobianCombiner, seeded
from trainer.registry import implements

_EPS = 1e-8


@implements("combiner", "gradvac")
class GradVac(JacobianCombiner):
    def __init__(self, gradvac_beta: float, generator: torch.Generator | None = None):
        self.beta = gradvac_beta
        self.generator = seeded(generator)
        self.targets: torch.Tensor | None = None  # the EMA of each pair's cosine similarity

    def weights(self, gram: torch.Tensor) -> torch.Tensor:
        """Each original gradient's weight in the sum of the vaccinated ones (CPU Gram)."""
        tasks = gram.shape[0]
        if getattr(self, "targets", None) is None or self.targets.shape != gram.shape:
            self.targets = torch.zeros_like(gram)
        targets = self.targets
        # coefficients[i] expresses the modified g_i in the original gradients.
        coefficients = torch.eye(tasks, dtype=gram.dtype)
        for i in range(tasks):
            dots = coefficients[i] @ gram
            others = [j for j in range(tasks) if j != i]
            order = torch.randperm(len(others), generator=self.generator).tolist()
            for j in (others[k] for k in order):
                norm_i = (dots * coefficients[i]).sum().clamp(min=0.0).sqrt()
                norm_j = gram[j, j].clamp(min=0.0).sqrt()
                cosine = dots[j] / (norm_i * norm_j + _EPS)
                target = targets[i, j]
                if cosine < target:
                    sine = (1.0 - cosine * cosine).clamp(min=0.0).sqrt()
                    target_sine = (1.0 - target * target).clamp(min=0.0).sqrt()
                    w = norm_i * (target * sine - cosine * target_sine)
                    w = w / (norm_j * target_sine + _EPS)
                    coefficients[i, j] += w
                    dots = dots + w * gram[j]
                targets[i, j] = (1.0 - self.beta) * target + self.beta * cosine
        return coefficients.sum(dim=0)

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        gram = (jacobian @ jacobian.T).cpu()
        return self.weights(gram).to(jacobian) @ jacobian

    def __repr__(self) -> str:
        return f"GradVac(beta={self.beta})"
