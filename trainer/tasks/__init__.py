"""Training tasks: the BPR main task and the auxiliary tasks each dataset offers."""

from __future__ import annotations

import logging

from trainer.data import RecDataset
from trainer.data.relations import GroupRelation, Relation
from trainer.tasks.alignment_uniformity import AlignmentUniformityTask
from trainer.tasks.base import Task, TaskBatch
from trainer.tasks.behavior import BehaviorTask
from trainer.tasks.bpr import BPRTask
from trainer.tasks.group_link import GroupLinkTask
from trainer.tasks.link import LinkTask
from trainer.tasks.negative_sampling import NegativeSampler
from trainer.tasks.pair_link import PairLinkTask
from trainer.tasks.rating import RatingTask

# Auxiliary tasks each dataset trains with, beside the BPR main task.
AUXILIARY_TASKS: dict[str, tuple[str, ...]] = {
    "office": ("align_uniform", "rating"),
    # Link prediction over the dataset's relations of the same name (dataset.links).
    # Chosen on validation Recall@20 (docs/hyperparameters.md): with PMTRec on the 5-core,
    # same_category alone scored best of the task sets, social slowed training and lowered it,
    # so social is offered (--tasks social,same_category) but not trained by default. On the
    # 5-core no task set has beaten BPR alone (same_category at link_ratio 0.1 ties it); on
    # the full catalogue PMTRec with same_category beats BPR alone on test over 3 seeds
    # (Recall@20 0.0385 against 0.0364, docs/results.md).
    "epinions": ("same_category",),
    # Chosen on validation Recall@20 (docs/datasets.md): same_brand hurt, same_category helped.
    "amazon-hin": ("co_view", "same_category"),
    "videogame": ("co_view", "co_buy"),
    "csv": ("item_pairs", "user_pairs"),
    # BPR over the auxiliary behavior's pairs (dataset.behaviors), beside BPR on buy.
    "tmall": ("cart",),
    "beibei": ("cart",),
}
# Auxiliary tasks built only when the user gave their file (--item-pairs, --user-pairs).
OPTIONAL_TASKS: dict[str, tuple[str, ...]] = {"csv": ("item_pairs", "user_pairs")}

log = logging.getLogger(__name__)


def build_link_task(
    name: str, relation: Relation, dataset: RecDataset, ratio: float = 1.0
) -> LinkTask:
    """The link-prediction task over one of the dataset's relations, drawing ``ratio`` links
    per training positive of a step."""
    num_rows = dataset.num_users if relation.table == "user" else dataset.num_items
    task_class = GroupLinkTask if isinstance(relation, GroupRelation) else PairLinkTask
    return task_class(name, relation, num_rows, ratio)


def build_tasks(
    dataset: RecDataset, auxiliary: tuple[str, ...], au_gamma: float, link_ratio: float = 1.0
) -> list[Task]:
    """The main task first, then the named auxiliary tasks in order."""
    positives = dataset.train_positive
    sampler = NegativeSampler(positives.users, positives.items, dataset.num_items)
    tasks: list[Task] = [BPRTask(positives, sampler)]
    for name in auxiliary:
        if name == "align_uniform":
            tasks.append(AlignmentUniformityTask(positives, gamma=au_gamma))
        elif name == "rating":
            tasks.append(RatingTask(dataset.train))
        elif name in dataset.links:
            tasks.append(build_link_task(name, dataset.links[name], dataset, link_ratio))
        elif name in dataset.behaviors:
            tasks.append(BehaviorTask(name, dataset.behaviors[name], dataset.num_items))
        elif name in OPTIONAL_TASKS.get(dataset.name, ()):
            log.warning("no '%s' relation given: the '%s' task is left out", name, name)
        else:
            raise ValueError(f"unknown auxiliary task '{name}' for dataset '{dataset.name}'")
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
]
