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
  comparable with models trained without feedback;
- a rating outside the range of the training ratings (e.g. -3 on a 1-5 scale) is left out
  (counted): the API refuses such ratings, this guards events stored before it did;
- caps (``max_per_user``, then ``max_events``; the newest events are kept, the rest counted
  as ``over_cap``) bound how much one retrain can be steered by a flood of events.
"""

from __future__ import annotations

from collections import Counter
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


def _within_caps(
    feedback: Feedback, max_events: int | None, max_per_user: int | None
) -> np.ndarray:
    """Which events the caps keep: the newest ``max_per_user`` of each user, then the newest
    ``max_events`` of those (events are oldest first); None or 0 means no cap."""
    keep = np.ones(len(feedback), dtype=bool)
    if max_per_user:
        seen: Counter[str] = Counter()
        for index in range(len(feedback) - 1, -1, -1):  # newest first
            user = feedback.user_ids[index]
            seen[user] += 1
            keep[index] = seen[user] <= max_per_user
    if max_events:
        kept = np.flatnonzero(keep)
        keep[kept[: max(len(kept) - max_events, 0)]] = False
    return keep


def merge_feedback(
    dataset: RecDataset,
    feedback: Feedback,
    *,
    max_events: int | None = None,
    max_per_user: int | None = None,
) -> RecDataset:
    """``dataset`` with ``feedback`` in its training split; counts in ``source_stats``
    (``feedback:*``, shown in the bundle manifest's dataset_stats)."""
    within_caps = _within_caps(feedback, max_events, max_per_user)
    if len(dataset.train):
        low, high = float(dataset.train.ratings.min()), float(dataset.train.ratings.max())
    else:
        low, high = -np.inf, np.inf
    item_rows = {item: row for row, item in enumerate(dataset.item_ids)}
    user_rows = {user: row for row, user in enumerate(dataset.user_ids)}
    new_users: list[str] = []
    implicit = (
        float(dataset.train.ratings.max()) if len(dataset.train) else dataset.positive_threshold + 1
    )
    latest: dict[tuple[int, int], float] = {}
    unknown_items = out_of_range = 0
    for user, item, rating, capped in zip(
        feedback.user_ids, feedback.item_ids, feedback.ratings.tolist(), ~within_caps
    ):
        if capped:
            continue
        if not np.isnan(rating) and not low <= rating <= high:
            out_of_range += 1
            continue
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
        "feedback:out_of_range": out_of_range,
        "feedback:over_cap": int((~within_caps).sum()),
    }
    return replace(
        dataset,
        user_ids=[*dataset.user_ids, *new_users],
        train=Interactions(users[order], items[order], ratings[order]),
        source_stats={**dataset.source_stats, **stats},
    )
