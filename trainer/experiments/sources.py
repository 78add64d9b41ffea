"""Where an experiment's dataset comes from: a named dataset on disk, or one already in memory.

Runs execute in spawned worker processes, so a source must be picklable and cheap to send;
each worker loads the dataset once and keeps it for its later runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trainer.data import RecDataset, load_dataset
from trainer.tasks import AUXILIARY_TASKS


class DatasetSource(Protocol):
    """A picklable handle that loads one dataset and names its auxiliary tasks."""

    @property
    def name(self) -> str: ...

    @property
    def auxiliary_tasks(self) -> tuple[str, ...]: ...

    def load(self) -> RecDataset: ...


@dataclass(frozen=True)
class NamedDataset:
    """A registered dataset (``trainer.data.DATASETS``) read from ``data_dir``."""

    name: str
    data_dir: Path
    allow_download: bool = False

    @property
    def auxiliary_tasks(self) -> tuple[str, ...]:
        return AUXILIARY_TASKS[self.name]

    def load(self) -> RecDataset:
        return load_dataset(self.name, self.data_dir, allow_download=self.allow_download)


@dataclass(frozen=True, eq=False)
class InMemoryDataset:
    """A dataset object handed over as is (tests, notebooks); pickled to the workers."""

    dataset: RecDataset
    auxiliary_tasks: tuple[str, ...] = field(default=("align_uniform", "rating"))

    @property
    def name(self) -> str:
        return self.dataset.name

    def load(self) -> RecDataset:
        return self.dataset
