"""The task seam: each task draws a batch of row indices and turns vectors into a loss."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch


@dataclass
class TaskBatch:
    """Row indices a task reads, split by table, plus any other per-example values."""

    users: dict[str, torch.Tensor] = field(default_factory=dict)
    items: dict[str, torch.Tensor] = field(default_factory=dict)
    values: dict[str, torch.Tensor] = field(default_factory=dict)

    def to(self, device: torch.device) -> TaskBatch:
        move = lambda fields: {k: v.to(device) for k, v in fields.items()}  # noqa: E731
        return TaskBatch(move(self.users), move(self.items), move(self.values))


class Task(ABC):
    """One training objective over user and item vectors."""

    name: str

    @abstractmethod
    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        """The task's batch for one step; ``positive_index`` are this step's training
        positives (indices into the dataset's positive interactions)."""

    @abstractmethod
    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Scalar loss; ``batch`` indexes rows of the ``users`` and ``items`` tables."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
