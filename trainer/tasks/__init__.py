"""Training tasks: the BPR main task and the auxiliary tasks each dataset offers."""

from __future__ import annotations

from trainer.data import RecDataset
from trainer.tasks.alignment_uniformity import AlignmentUniformityTask
from trainer.tasks.base import Task, TaskBatch
from trainer.tasks.bpr import BPRTask
from trainer.tasks.negative_sampling import NegativeSampler
from trainer.tasks.rating import RatingTask

# Auxiliary tasks each dataset trains with, beside the BPR main task.
AUXILIARY_TASKS: dict[str, tuple[str, ...]] = {
    "office": ("align_uniform", "rating"),
}


def build_tasks(dataset: RecDataset, auxiliary: tuple[str, ...], au_gamma: float) -> list[Task]:
    """The main task first, then the named auxiliary tasks in order."""
    positives = dataset.train_positive
    sampler = NegativeSampler(positives.users, positives.items, dataset.num_items)
    tasks: list[Task] = [BPRTask(positives, sampler)]
    for name in auxiliary:
        if name == "align_uniform":
            tasks.append(AlignmentUniformityTask(positives, gamma=au_gamma))
        elif name == "rating":
            tasks.append(RatingTask(dataset.train))
        else:
            raise ValueError(f"unknown auxiliary task '{name}' for dataset '{dataset.name}'")
    return tasks


__all__ = ["AUXILIARY_TASKS", "NegativeSampler", "Task", "TaskBatch", "build_tasks"]
