"""Task-wise combiners: the tasks' gradients of all shared embedding rows form one Jacobian
(one row per task, flattened over rows and dimensions) that an aggregator turns into a single
update, as the multi-task baselines of the paper do with the shared parameters."""

from __future__ import annotations

from abc import abstractmethod

import torch

from trainer.combiners.base import GradientCombiner


def seeded(generator: torch.Generator | None) -> torch.Generator:
    """The trainer's generator, or one seeded with 0 for a combiner built on its own: every
    random draw of a combiner comes from a seeded generator, never from torch's global one."""
    return generator if generator is not None else torch.Generator().manual_seed(0)


class JacobianCombiner(GradientCombiner):
    """Aggregates the [tasks, rows * dim] Jacobian into one [rows * dim] vector."""

    needs_task_gradients = True

    @abstractmethod
    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor: ...

    def combine(self, task_gradients: torch.Tensor, epoch: int) -> torch.Tensor:
        tasks, rows, dim = task_gradients.shape
        return self.aggregate(task_gradients.reshape(tasks, rows * dim)).reshape(rows, dim)

    def combine_blocks(self, blocks: list[torch.Tensor], epoch: int) -> list[torch.Tensor]:
        """All shared parameters form one Jacobian, as task-wise methods require."""
        flat = [block.reshape(block.shape[0], -1) for block in blocks]
        update = self.aggregate(torch.cat(flat, dim=1))
        sizes = [f.shape[1] for f in flat]
        return [part.reshape(block.shape[1:]) for part, block in zip(update.split(sizes), blocks)]


class TorchJDCombiner(JacobianCombiner):
    """A TorchJD aggregator (https://github.com/TorchJD/torchjd) behind the combiner seam."""

    def __init__(self) -> None:
        self.aggregator = self.build_aggregator()

    @abstractmethod
    def build_aggregator(self): ...

    def aggregate(self, jacobian: torch.Tensor) -> torch.Tensor:
        return self.aggregator(jacobian)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.aggregator!r})"
