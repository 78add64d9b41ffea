"""Conflict-averse gradient descent (CAGrad; Liu et al., NeurIPS 2021,
https://arxiv.org/abs/2110.14048), as in the authors' code.

With G the tasks' Gram matrix and g0 the mean gradient, find w on the simplex minimising
``g_w . g0 + c ||g0|| ||g_w||`` (g_w = sum_t w_t g_t), then update with
``(g0 + c ||g0|| g_w / ||g_w||) / (1 + c^2)``.

Written here rather than taken from TorchJD because TorchJD's ``CAGrad`` needs cvxpy and leaves
out the original's final 1 / (1 + c^2) rescaling (which matters with weight decay); the
simplex problem has as many unknowns as tasks, so scipy's SLSQP solves it directly.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from trainer.combiners.jacobian import JacobianCombiner
from trainer.registry import implements


def cagrad_weights(gram: np.ndarray, c: float) -> np.ndarray:
    """The simplex weights w of the CAGrad sub-problem for a [tasks, tasks] Gram matrix."""
    tasks = gram.shape[0]
    mean = np.full(tasks, 1.0 / tasks)
    g0_norm = float(np.sqrt(max(mean @ gram @ mean, 0.0)) + 1e-8)
    radius = c * g0_norm

    def objective(w: np.ndarray) -> float:
        return float(w @ gram @ mean + radius * np.sqrt(max(w @ gram @ w, 0.0) + 1e-8))

    result = minimize(
        objective,
        mean,
        bounds=[(0.0, 1.0)] * tasks,
        method="SLSQP",
        constraints=({"type": "eq", "fun": lambda w: 1.0 - w.sum()},),
    )
    return result.x


@implements("combiner", "cagrad")
class CAGrad(JacobianCombiner):
    def __init__(self, cagrad_c: float):
        self.c = cagrad_c

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        gram = (jacobian @ jacobian.T).double().cpu().numpy()
        w = torch.from_numpy(cagrad_weights(gram, self.c)).to(jacobian)
        g0, gw = jacobian.mean(dim=0), w @ jacobian
        scale = self.c * g0.norm() / (gw.norm() + 1e-8)
        return (g0 + scale * gw) / (1 + self.c**2)

    def __repr__(self) -> str:
        return f"CAGrad(c={self.c})"
