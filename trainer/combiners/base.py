"""The gradient-combiner seam: per-task gradients of embedding rows -> one gradient per row."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from shared.registry import Component


class GradientCombiner(ABC):
    """Combines the tasks' gradients of the shared embedding rows.

    ``combine`` receives ``task_gradients`` of shape [tasks, rows, dim] (task 0 is the main
    task; a task that does not touch a row has a zero gradient there) and the 1-based epoch,
    and returns the [rows, dim] gradient handed to the optimiser.

    Combiners that are a fixed weighting of the losses set ``needs_task_gradients = False``
    and give ``loss_weights``; the trainer then runs one backward pass of the weighted sum
    instead of one per task, which is the same update and cheaper.
    """

    # Set by trainer.registry.implements from the declaration (shared/components.py).
    name: ClassVar[str]
    component: ClassVar[Component]
    needs_task_gradients: ClassVar[bool] = True
    # False for combiners that train the main task alone: auxiliary tasks are not built.
    uses_auxiliary_tasks: ClassVar[bool] = True

    # The run's seeded generator, for combiners that draw at random (PCGrad, RLW, ...).
    generator: torch.Generator | None = None

    def __getstate__(self) -> dict:
        # A checkpoint stores the generator with the trainer's; it is bound again on restore.
        state = self.__dict__.copy()
        state.pop("generator", None)
        return state

    def loss_weights(self, num_tasks: int) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} combines gradients, not losses")

    @abstractmethod
    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor: ...

    def combine_blocks(self, blocks: list[torch.Tensor], epoch: int) -> list[torch.Tensor]:
        """Combine several [tasks, rows, dim] blocks (embedding rows first, then dense encoder
        weights, each weight tensor as one row). Row-wise combiners treat blocks apart."""
        return [self.combine(block, epoch) for block in blocks]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
