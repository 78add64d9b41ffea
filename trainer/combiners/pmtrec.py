"""Personalized multi-task training (PMTRec; Yang et al., IEEE BigData 2024).

For every embedding row (a user or an item) separately:

1. ``n_t`` = L2 norm of task ``t``'s gradient of that row (0 when the task does not touch it);
2. task focusing: the main task's norm is multiplied by ``alpha ** epoch`` (epoch from 1), so
   the main task gains weight as training goes on;
3. magnitude balancing: ``w = softmax(n / tau)`` over the tasks;
4. the row's gradient is ``sum_t w_t * grad_t``.

Ablations: ``alpha = 1`` turns focusing off; ``tau = 1`` turns balancing off in effect, since
per-row gradient norms are far below 1 and the softmax is then close to uniform.
"""

from __future__ import annotations

import math

import torch

from trainer.combiners.base import GradientCombiner
from trainer.registry import implements

# Keeps softmax logits finite when alpha ** epoch / tau grows huge (weights are unchanged:
# softmax only looks at differences, and any logit this large already takes all the weight).
_MAX_LOGIT = 1e30


@implements("combiner", "pmtrec")
class PMTRec(GradientCombiner):
    needs_task_gradients = True

    def __init__(self, alpha: float, tau: float):
        self.alpha = alpha
        self.tau = tau

    def task_weights(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        """Softmax weights of shape [tasks, rows]."""
        norms = torch.linalg.vector_norm(task_gradients, dim=2)
        focus = math.exp(min(epoch * math.log(self.alpha), math.log(_MAX_LOGIT)))
        logits = norms / self.tau
        logits[0] = logits[0] * focus
        return torch.softmax(logits.clamp(max=_MAX_LOGIT), dim=0)

    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        weights = self.task_weights(task_gradients, epoch)
        return torch.einsum("tr,trd->rd", weights, task_gradients)

    def __repr__(self) -> str:
        return f"PMTRec(alpha={self.alpha}, tau={self.tau})"
