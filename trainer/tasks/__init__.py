"""Training tasks: the BPR main task and the auxiliary tasks each dataset offers, bound to
their declarations by name.

Every module of this package is imported here, so a new task is its file (decorated with
``@implements("task", name)``) and its declaration in ``shared/components.py``. An auxiliary
task is named by its declaration ("align_uniform", "rating"), or by one of the dataset's
relations (the "link" task over ``dataset.links[name]``) or behaviors (the "behavior" task).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Mapping
from typing import Any

from shared.components import MAIN_TASKS
from shared.registry import DATASETS as DECLARED_DATASETS
from shared.registry import TASKS as DECLARED
from trainer.data import RecDataset
from trainer.data.relations import GroupRelation
from trainer.registry import builder, implementation, implements

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from trainer.tasks.base import Task, TaskBatch  # noqa: E402
from trainer.tasks.behavior import BehaviorTask  # noqa: E402
from trainer.tasks.group_link import GroupLinkTask  # noqa: E402
from trainer.tasks.link import LinkTask  # noqa: E402
from trainer.tasks.negative_sampling import NegativeSampler  # noqa: E402
from trainer.tasks.pair_link import PairLinkTask  # noqa: E402

log = logging.getLogger(__name__)

# Auxiliary tasks each dataset trains with beside the BPR main task, from its declaration.
AUXILIARY_TASKS: Mapping[str, tuple[str, ...]] = {
    d.name: tuple(d.extra.get("auxiliary_tasks", ())) for d in DECLARED_DATASETS.components()
}
# Named by the dataset, not declared: built for each relation or behavior of that name.
_BY_DATASET = ("link", "behavior")
# The main tasks (one of them is the first task of every run), never auxiliary ones.
_NOT_AUXILIARY = (*_BY_DATASET, *MAIN_TASKS)


@implements("task", "link")
def build_link_task(dataset: RecDataset, name: str, link_ratio: float) -> LinkTask:
    """The link-prediction task over the dataset's relation ``name``, drawing ``link_ratio``
    links per training positive of a step."""
    relation = dataset.links[name]
    num_rows = dataset.num_users if relation.table == "user" else dataset.num_items
    task_class = GroupLinkTask if isinstance(relation, GroupRelation) else PairLinkTask
    return task_class(name, relation, num_rows, link_ratio)


def declared_auxiliary_tasks() -> tuple[str, ...]:
    """The declared tasks any dataset may train with (not named by the dataset's data)."""
    return tuple(name for name in DECLARED if name not in _NOT_AUXILIARY)


def _task_kind(dataset: RecDataset, name: str) -> str | None:
    if name in DECLARED and name not in _NOT_AUXILIARY:
        return name
    if name in dataset.links:
        return "link"
    if name in dataset.behaviors:
        return "behavior"
    return None


def build_tasks(
    dataset: RecDataset,
    auxiliary: tuple[str, ...],
    hyperparameters: Mapping[str, Any] | None = None,
) -> list[Task]:
    """The main task first (``main_task``, BPR unless it names another), then the named
    auxiliary tasks in order, each with its declared hyper-parameters taken from
    ``hyperparameters`` (defaults for those missing)."""
    main = (hyperparameters or {}).get("main_task", "bpr")
    names = [(main, main)]
    optional = ()
    if dataset.name in DECLARED_DATASETS:
        optional = DECLARED_DATASETS.get(dataset.name).extra.get("optional_tasks", ())
    for name in auxiliary:
        kind = _task_kind(dataset, name)
        if kind is not None:
            names.append((kind, name))
        elif name in optional:
            log.warning("no '%s' relation given: the '%s' task is left out", name, name)
        else:
            raise ValueError(f"unknown auxiliary task '{name}' for dataset '{dataset.name}'")
    tasks = []
    for kind, name in names:
        component = DECLARED.get(kind)
        values = {**component.defaults(), **(hyperparameters or {})}
        params = {p: values[p] for p in component.param_names()}
        tasks.append(builder(implementation("task", kind))(dataset, name, **params))
    return tasks


__all__ = [
    "AUXILIARY_TASKS",
    "BehaviorTask",
    "GroupLinkTask",
    "LinkTask",
    "NegativeSampler",
    "PairLinkTask",
    "Task",
    "TaskBatch",
    "build_link_task",
    "build_tasks",
    "declared_auxiliary_tasks",
]
