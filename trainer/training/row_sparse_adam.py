"""A row-sparse Adam for very large embedding tables (``TrainConfig.optimizer``).

Not Algorithm 1's dense Adam: dense Adam decays every row's moments and moves every row with
its momentum at every step, so its step costs O(table). Here (``torch.optim.SparseAdam``, the
"lazy Adam" of large embedding models) a step updates the moments and the values of the rows
the step's gradient touches only, and leaves every other row as it is; the bias correction
counts the table's steps, not the row's. L2 weight decay is added to the touched rows'
gradients alone. A step then costs O(rows touched), flat in the table's size
(docs/bench/scale-step.md), and the model trained differs from dense Adam's (docs/scaling.md
measures the quality on Office).

Dense encoder weights (none for MF and LightGCN) keep the fused dense Adam.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

OPTIMIZERS = ("adam", "row_sparse_adam")


class RowSparseAdam:
    """SparseAdam on the two embedding tables, dense Adam on anything else; one optimiser's
    interface (``step``, ``state_dict``, ``load_state_dict``) for the loop and checkpoints."""

    def __init__(
        self, tables: list[nn.Parameter], dense: list[nn.Parameter], lr: float, fused: bool
    ):
        self.tables = torch.optim.SparseAdam(tables, lr=lr)
        self.dense = torch.optim.Adam(dense, lr=lr, fused=fused) if dense else None

    def step(self) -> None:
        self.tables.step()
        if self.dense is not None:
            self.dense.step()

    def state_dict(self) -> dict[str, Any]:
        return {
            "tables": self.tables.state_dict(),
            "dense": None if self.dense is None else self.dense.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tables.load_state_dict(state["tables"])
        if self.dense is not None:
            self.dense.load_state_dict(state["dense"])


def row_gradient(
    param: torch.Tensor, rows: torch.Tensor, grad: torch.Tensor, weight_decay: float
) -> torch.Tensor:
    """The table's sparse gradient: ``grad`` (plus L2 decay) on the unique ``rows``."""
    if weight_decay:
        grad = grad + weight_decay * param.detach()[rows]
    return torch.sparse_coo_tensor(
        rows[None], grad, param.shape, is_coalesced=True, check_invariants=False
    )
