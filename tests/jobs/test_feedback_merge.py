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
        "feedback:out_of_range": 0,
        "feedback:over_cap": 0,
    }
    # The new user is a positive-bearing training user, so training learns a vector for them.
    newcomer = merged.user_ids.index("newcomer")
    assert newcomer in merged.train_positive.users


def test_caps_keep_the_newest_events_and_ratings_off_the_scale_are_left_out(tiny_dataset):
    """Issue 13 item 10 / issue 18 item 5: a flood of events cannot swamp a retrain, and a -3
    stored before the API checked ratings does not become training data."""
    flood = [(f"bot{n}", f"i{n % 30}", 5.0) for n in range(50)]  # 50 made-up users
    chatty = [("chatty", f"i{n}", 4.0) for n in range(10)]  # one user, 10 events
    off_scale = [("sour", "i3", -3.0), ("sour", "i4", 99.0)]
    feedback = _feedback(*flood, *chatty, *off_scale)

    merged = merge_feedback(tiny_dataset, feedback, max_events=20, max_per_user=4)

    new_users = merged.user_ids[tiny_dataset.num_users :]
    # Per user first: chatty keeps its newest 4 (i6..i9); then the newest 20 events overall:
    # both of sour's (left out for their ratings), chatty's 4 and the last 14 bots.
    assert new_users == [f"bot{n}" for n in range(36, 50)] + ["chatty"]
    pairs = _pairs(merged)
    assert {i for (u, i) in pairs if u == "chatty"} == {"i6", "i7", "i8", "i9"}
    assert not any(u == "sour" for u, _ in pairs)
    stats = merged.source_stats
    assert stats["feedback:over_cap"] == len(feedback) - 20
    assert stats["feedback:out_of_range"] == 2
    assert stats["feedback:new_users"] == 15

    uncapped = merge_feedback(tiny_dataset, feedback)
    assert len(uncapped.user_ids) - tiny_dataset.num_users == 51
    assert uncapped.source_stats["feedback:over_cap"] == 0
