"""Link-prediction tasks: what they draw, that they are seeded, and that training learns them."""

import dataclasses
import logging

import numpy as np
import pytest
import torch

from trainer.data.relations import GroupRelation, PairRelation
from trainer.tasks import GroupLinkTask, PairLinkTask, build_tasks
from trainer.training import TrainConfig, Trainer


def pair_relation() -> PairRelation:
    left, right = np.array([0, 0, 1, 5]), np.array([1, 2, 3, 6])
    return PairRelation.build("user", left, right, np.ones(4, dtype=bool))


def group_relation() -> GroupRelation:
    # Group 0: rows 0-3, group 1: rows 3-5, group 2: row 9 alone (never an anchor).
    rows = np.array([0, 1, 2, 3, 3, 4, 5, 9])
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 2])
    return GroupRelation.build("item", rows, groups, np.ones(8, dtype=bool))


def test_pair_task_draws_links_both_ways_and_unlinked_negatives():
    task = PairLinkTask("social", pair_relation(), num_rows=10)
    batch = task.sample(torch.arange(4000), torch.Generator().manual_seed(0))
    assert not batch.items and set(batch.users) == {"anchor", "positive", "negative"}
    anchor, positive, negative = (batch.users[k] for k in ("anchor", "positive", "negative"))
    links = {(0, 1), (0, 2), (1, 3), (5, 6)}
    drawn = set(zip(anchor.tolist(), positive.tolist()))
    assert drawn == links | {(b, a) for a, b in links}
    linked = links | {(b, a) for a, b in links} | {(r, r) for r in range(10)}
    assert not set(zip(anchor.tolist(), negative.tolist())) & linked


def test_group_task_draws_partners_from_the_anchor_group():
    relation = group_relation()
    task = GroupLinkTask("same_category", relation, num_rows=10)
    batch = task.sample(torch.arange(4000), torch.Generator().manual_seed(0))
    assert not batch.users
    anchor, positive, negative = (batch.items[k] for k in ("anchor", "positive", "negative"))
    members = {0: {0, 1, 2, 3}, 1: {3, 4, 5}}
    assert (anchor != positive).all() and 9 not in anchor.tolist()
    for a, p, n in zip(anchor.tolist(), positive.tolist(), negative.tolist()):
        shared = [g for g, rows in members.items() if a in rows and p in rows]
        assert shared
        assert any(n not in members[g] for g in shared)
    # Every other member of a group is drawn as a partner.
    assert set(positive[anchor == 0].tolist()) == {1, 2, 3}


@pytest.mark.parametrize("make", [pair_relation, group_relation])
def test_tasks_are_reproducible_under_a_seed(make):
    relation = make()
    cls = PairLinkTask if isinstance(relation, PairRelation) else GroupLinkTask
    task = cls("link", relation, num_rows=10)
    first = task.sample(torch.arange(64), torch.Generator().manual_seed(5))
    again = task.sample(torch.arange(64), torch.Generator().manual_seed(5))
    side = "users" if relation.table == "user" else "items"
    for key in ("anchor", "positive", "negative"):
        assert torch.equal(getattr(first, side)[key], getattr(again, side)[key])
        assert len(getattr(first, side)[key]) == 64


def test_relations_without_links_are_refused():
    empty = PairRelation.build("item", np.array([1]), np.array([1]), np.array([True]))
    with pytest.raises(ValueError, match="no links"):
        PairLinkTask("co_view", empty, 5)
    single = GroupRelation.build("item", np.array([1, 2]), np.array([0, 1]), np.ones(2, bool))
    with pytest.raises(ValueError, match="no group of two"):
        GroupLinkTask("same_brand", single, 5)


def with_links(dataset, name: str):
    """The tiny dataset with an item-pair and a user-pair relation."""
    rng = np.random.default_rng(0)
    items = PairRelation.build(
        "item", rng.integers(0, 30, 60), rng.integers(0, 30, 60), np.ones(60, dtype=bool)
    )
    users = GroupRelation.build("user", np.arange(40), np.arange(40) % 4, np.ones(40, dtype=bool))
    return dataclasses.replace(dataset, name=name, links={"item_pairs": items, "groups": users})


def test_build_tasks_uses_the_dataset_links(tiny_dataset, caplog):
    dataset = with_links(tiny_dataset, "csv")
    tasks = build_tasks(dataset, ("item_pairs", "groups"))
    assert [t.name for t in tasks] == ["bpr", "item_pairs", "groups"]
    assert isinstance(tasks[1], PairLinkTask) and isinstance(tasks[2], GroupLinkTask)
    with caplog.at_level(logging.WARNING):
        tasks = build_tasks(dataset, ("item_pairs", "user_pairs"))
    assert [t.name for t in tasks] == ["bpr", "item_pairs"]
    assert "user_pairs" in caplog.text
    with pytest.raises(ValueError, match="unknown auxiliary task 'user_pairs'"):
        build_tasks(dataclasses.replace(dataset, name="epinions"), ("user_pairs",))


def test_training_learns_the_links(tiny_dataset):
    dataset = with_links(tiny_dataset, "csv")
    config = TrainConfig(
        method="ew", auxiliary_tasks=("item_pairs", "groups"), epochs=15, batch_size=64, lr=0.05
    )
    trainer = Trainer(dataset, config, progress=False)
    first = trainer.train_epoch(1)
    for epoch in range(2, 16):
        last = trainer.train_epoch(epoch)
    assert last["item_pairs"] < 0.5 * first["item_pairs"]
    assert last["groups"] < 0.8 * first["groups"]


@pytest.mark.parametrize("make", [pair_relation, group_relation])
def test_link_ratio_draws_that_share_of_a_steps_positives(make):
    relation = make()
    cls = PairLinkTask if isinstance(relation, PairRelation) else GroupLinkTask
    side = "users" if relation.table == "user" else "items"
    full = cls("link", relation, num_rows=10).sample(torch.arange(64), torch.Generator())
    quarter = cls("link", relation, num_rows=10, ratio=0.25)
    assert len(getattr(full, side)["anchor"]) == 64
    assert len(getattr(quarter.sample(torch.arange(64), torch.Generator()), side)["anchor"]) == 16
    # A step always draws at least one link.
    assert len(getattr(quarter.sample(torch.arange(1), torch.Generator()), side)["anchor"]) == 1


def test_training_passes_the_link_ratio_to_link_tasks(tiny_dataset):
    dataset = with_links(tiny_dataset, "csv")
    config = TrainConfig(method="ew", auxiliary_tasks=("item_pairs", "groups"), link_ratio=0.5)
    trainer = Trainer(dataset, config, progress=False)
    assert [task.ratio for task in trainer.tasks[1:]] == [0.5, 0.5]
