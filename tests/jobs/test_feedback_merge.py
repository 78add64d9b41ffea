"""Stored feedback joins a dataset's training split by the documented rules."""

from __future__ import annotations

import numpy as np

from trainer.data.feedback import Feedback, merge_feedback


def _feedback(*events: tuple[str, str, float | None]) -> Feedback:
    return Feedback(
        user_ids=[u for u, _, _ in events],
        item_ids=[i for _, i, _ in events],
        ratings=np.array([np.nan if r is None else r for _, _, r in events], dtype=np.float32),
    )


def _pairs(dataset) -> dict[tuple[str, str], float]:
    train = dataset.train
    return {
        (dataset.user_ids[u], dataset.item_ids[i]): float(r)
        for u, i, r in zip(train.users, train.items, train.ratings)
    }


def test_merge_rules(tiny_dataset):
    base = _pairs(tiny_dataset)
    existing_user, existing_item = next(iter(base))
    held_out = (
        tiny_dataset.user_ids[tiny_dataset.test.users[0]],
        tiny_dataset.item_ids[tiny_dataset.test.items[0]],
    )
    new_pair_item = next(
        i
        for i in tiny_dataset.item_ids
        if (existing_user, i) not in base
        and (tiny_dataset.user_ids.index(existing_user), tiny_dataset.item_ids.index(i))
        not in set(zip(tiny_dataset.val.users.tolist(), tiny_dataset.val.items.tolist()))
        | set(zip(tiny_dataset.test.users.tolist(), tiny_dataset.test.items.tolist()))
    )
    feedback = _feedback(
        ("newcomer", "i1", None),  # new user, implicit: positive with the top rating
        ("newcomer", "i2", 2.0),  # explicit low rating, kept as is
        ("newcomer", "i2", 4.0),  # ... and the latest event wins
        ("newcomer", "not-an-item", 5.0),  # unknown item: left out
        (existing_user, existing_item, 1.0),  # a training pair takes the new rating
        (existing_user, new_pair_item, 5.0),  # a new pair of a known user
        (*held_out, 5.0),  # held out for test: left out
    )
    merged = merge_feedback(tiny_dataset, feedback)

    assert merged.user_ids[: tiny_dataset.num_users] == tiny_dataset.user_ids
    assert merged.user_ids[tiny_dataset.num_users :] == ["newcomer"]
    assert merged.item_ids == tiny_dataset.item_ids
    pairs = _pairs(merged)
    top = float(tiny_dataset.train.ratings.max())
    assert pairs[("newcomer", "i1")] == top
    assert pairs[("newcomer", "i2")] == 4.0
    assert pairs[(existing_user, existing_item)] == 1.0
    assert pairs[(existing_user, new_pair_item)] == 5.0
    assert held_out not in pairs
    assert len(pairs) == len(base) + 3
    # Everything else is untouched; validation and test splits are the same objects.
    assert {
        k: v for k, v in pairs.items() if k in base and k != (existing_user, existing_item)
    } == {k: v for k, v in base.items() if k != (existing_user, existing_item)}
    assert merged.val is tiny_dataset.val and merged.test is tiny_dataset.test
    assert {k: v for k, v in merged.source_stats.items() if k.startswith("feedback:")} == {
        "feedback:events": 7,
        "feedback:added": 3,
        "feedback:updated": 1,
        "feedback:new_users": 1,
        "feedback:unknown_items": 1,
        "feedback:held_out_skipped": 1,
    }
    # The new user is a positive-bearing training user, so training learns a vector for them.
    newcomer = merged.user_ids.index("newcomer")
    assert newcomer in merged.train_positive.users
