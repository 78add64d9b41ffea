"""From source rows to a ``RecDataset``: the recipe every loader of raw interactions shares.

1. external ids -> dense rows (sorted ids, see ``IdIndex``);
2. duplicate (user, item) rows merged, the latest rating winning (``duplicates.py``);
3. optionally the iterative k-core (``--core K``);
4. the seeded random 60/20/20 split per user, test keeping positives only (``split.py``);
5. the auxiliary relations, mapped onto the surviving rows (unknown ids dropped, counted);
6. multi-behavior data: the interactions are the target behavior's; every other behavior's
   (user, item) pairs become its training pairs (unique; ids of every behavior get rows; with
   a k-core, pairs naming a user or item the core removed are dropped and counted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trainer.data.core import k_core_mask
from trainer.data.duplicates import latest_per_pair
from trainer.data.ids import IdIndex
from trainer.data.interactions import Interactions, RecDataset
from trainer.data.relations import Relation
from trainer.data.sources import DatasetError
from trainer.data.split import split_per_user


@dataclass(frozen=True)
class RawInteractions:
    """Interactions as read from a source: one entry per source row, external ids (integers
    or strings), ratings, and timestamps where the source has them."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray | None = None


# Builds the named relations over the final user and item ids.
LinkBuilder = Callable[[IdIndex, IdIndex], dict[str, Relation]]


# Auxiliary behaviors as read: behavior name -> (user ids, item ids), one entry per row.
RawBehaviors = dict[str, tuple[np.ndarray, np.ndarray]]


def _keep_rows(index: IdIndex, rows: np.ndarray) -> tuple[IdIndex, np.ndarray]:
    """Drop the ids no remaining interaction uses: the kept index and each old row's new row
    (-1 where dropped)."""
    used = np.bincount(rows, minlength=len(index)) > 0
    return index.subset(used)


def _behavior_pairs(
    user_rows: np.ndarray, item_rows: np.ndarray, num_items: int, name: str, stats: dict
) -> Interactions:
    """Unique (user row, item row) pairs, sorted, rating 1; rows of -1 (removed by a k-core)
    dropped and counted."""
    known = (user_rows >= 0) & (item_rows >= 0)
    if not known.all():
        stats[f"behavior:{name}:dropped:core"] = int(np.count_nonzero(~known))
    keys = np.unique(user_rows[known] * num_items + item_rows[known])
    return Interactions(keys // num_items, keys % num_items, np.ones(len(keys), np.float32))


def assemble_dataset(
    name: str,
    raw: RawInteractions,
    positive_threshold: float,
    core: int = 0,
    links: LinkBuilder | None = None,
    source_stats: dict[str, int] | None = None,
    behaviors: RawBehaviors | None = None,
    target_behavior: str | None = None,
) -> RecDataset:
    if len(raw.users) == 0:
        raise DatasetError(f"dataset '{name}' has no interactions")
    behaviors = behaviors or {}
    users, all_user_rows = IdIndex.encode(
        np.concatenate([raw.users, *(u for u, _ in behaviors.values())])
    )
    items, all_item_rows = IdIndex.encode(
        np.concatenate([raw.items, *(i for _, i in behaviors.values())])
    )
    user_rows, item_rows = all_user_rows[: len(raw.users)], all_item_rows[: len(raw.items)]
    kept = latest_per_pair(user_rows, item_rows, len(items), raw.timestamps)
    stats = {
        "source:rows": len(raw.users),
        "source:users": len(users),
        "source:items": len(items),
        "source:unique_pairs": len(kept),
        "source:duplicate_rows_merged": len(raw.users) - len(kept),
        **(source_stats or {}),
    }
    user_rows, item_rows = user_rows[kept], item_rows[kept]
    ratings = np.asarray(raw.ratings, dtype=np.float32)[kept]
    if core > 1:
        survive = k_core_mask(user_rows, item_rows, core)
        if not survive.any():
            raise DatasetError(f"dataset '{name}': no interaction survives the {core}-core")
        user_rows, item_rows, ratings = user_rows[survive], item_rows[survive], ratings[survive]
        users, new_user_rows = _keep_rows(users, user_rows)
        items, new_item_rows = _keep_rows(items, item_rows)
        user_rows, item_rows = new_user_rows[user_rows], new_item_rows[item_rows]
        all_user_rows, all_item_rows = new_user_rows[all_user_rows], new_item_rows[all_item_rows]
        stats["core"] = core
    # Before the split drops the test split's ratings <= threshold: the count sources state.
    stats["interactions_before_split"] = len(user_rows)
    # Sorted by (user, item) already: merged pairs come sorted and renumbering keeps order.
    train, val, test = split_per_user(
        Interactions(user_rows, item_rows, ratings), test_threshold=positive_threshold
    )
    if not np.any(train.ratings > positive_threshold):
        raise DatasetError(
            f"dataset '{name}' has no positive training interaction (rating > "
            f"{positive_threshold:g})"
        )
    behavior_pairs, start = {}, len(raw.users)
    for behavior, (behavior_users, _) in behaviors.items():
        end = start + len(behavior_users)
        behavior_pairs[behavior] = _behavior_pairs(
            all_user_rows[start:end], all_item_rows[start:end], len(items), behavior, stats
        )
        start = end
    return RecDataset(
        name=name,
        user_ids=users.strings(),
        item_ids=items.strings(),
        train=train,
        val=val,
        test=test,
        positive_threshold=positive_threshold,
        links=links(users, items) if links else {},
        source_stats=stats,
        behaviors=behavior_pairs,
        target_behavior=target_behavior,
    )
