"""Feedback collected by the service (``POST /feedback``) joins a dataset's training split.

Rules (docs/service.md, "Feedback and retraining"):

- an event joins when its item id is in the dataset's catalogue; other events are counted
  and left out (the catalogue is the dataset's);
- a user id the dataset does not know becomes a new user row (appended, so existing rows and
  relations keep their numbers): the retrained model then knows that user;
- an event without a rating counts as a positive with the highest training rating;
- repeated (user, item) events: the latest wins; a pair already in training takes the
  feedback's rating;
- a pair held out for validation or test is left out (counted), so offline metrics stay
  comparable with models trained without feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from trainer.data.interactions import Interactions, RecDataset


@dataclass(frozen=True)
class Feedback:
    """Feedback events, oldest first: external ids and ratings (NaN where none was given)."""

    user_ids: list[str]
    item_ids: list[str]
    ratings: np.ndarray

    def __len__(self) -> int:
        return len(self.user_ids)


def merge_feedback(dataset: RecDataset, feedback: Feedback) -> RecDataset:
    """``dataset`` with ``feedback`` in its training split; counts in ``source_stats``
    (``feedback:*``, shown in the bundle manifest's dataset_stats)."""
    item_rows = {item: row for row, item in enumerate(dataset.item_ids)}
    user_rows = {user: row for row, user in enumerate(dataset.user_ids)}
    new_users: list[str] = []
    implicit = (
        float(dataset.train.ratings.max()) if len(dataset.train) else dataset.positive_threshold + 1
    )
    latest: dict[tuple[int, int], float] = {}
    unknown_items = 0
    for user, item, rating in zip(feedback.user_ids, feedback.item_ids, feedback.ratings.tolist()):
        item_row = item_rows.get(item)
        if item_row is None:
            unknown_items += 1
            continue
        user_row = user_rows.get(user)
        if user_row is None:
            user_row = user_rows[user] = len(user_rows)
            new_users.append(user)
        latest[(user_row, item_row)] = implicit if np.isnan(rating) else float(rating)

    num_items = dataset.num_items
    keys = np.fromiter((u * num_items + i for u, i in latest), dtype=np.int64, count=len(latest))
    values = np.fromiter(latest.values(), dtype=np.float32, count=len(latest))
    held_out = np.concatenate(
        [
            split.users.astype(np.int64) * num_items + split.items
            for split in (dataset.val, dataset.test)
        ]
    )
    skip = np.isin(keys, held_out)
    keys, values = keys[~skip], values[~skip]

    train = dataset.train
    train_keys = train.users.astype(np.int64) * num_items + train.items
    by_key = np.argsort(train_keys, kind="stable")
    found = np.searchsorted(train_keys, keys, sorter=by_key).clip(max=max(len(train_keys) - 1, 0))
    in_train = (
        train_keys[by_key[found]] == keys if len(train_keys) else np.zeros(len(keys), dtype=bool)
    )
    ratings = train.ratings.astype(np.float32, copy=True)
    ratings[by_key[found[in_train]]] = values[in_train]
    added = keys[~in_train]
    users = np.concatenate([train.users.astype(np.int64), added // num_items])
    items = np.concatenate([train.items.astype(np.int64), added % num_items])
    ratings = np.concatenate([ratings, values[~in_train]])
    order = np.lexsort((items, users))
    stats = {
        "feedback:events": len(feedback),
        "feedback:added": len(added),
        "feedback:updated": int(in_train.sum()),
        "feedback:new_users": len(new_users),
        "feedback:unknown_items": unknown_items,
        "feedback:held_out_skipped": int(skip.sum()),
    }
    return replace(
        dataset,
        user_ids=[*dataset.user_ids, *new_users],
        train=Interactions(users[order], items[order], ratings[order]),
        source_stats={**dataset.source_stats, **stats},
    )
