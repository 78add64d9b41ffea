"""A CSV with a behavior column (user,item,behavior[,timestamp]) and --target-behavior: the
target's pairs are the interactions, every other behavior an auxiliary BPR task."""

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import REPO
from tests.data.conftest import write_text
from trainer.data import DatasetError, Interactions, LoadOptions, load_dataset
from trainer.data.bad_rows import MalformedRowError
from trainer.data.split import hold_out_one_per_user
from trainer.defaults import dataset_auxiliary_tasks, select_auxiliary_tasks
from trainer.tasks import BehaviorTask, build_tasks
from trainer.training import ConfigError

USERS = ["alice@example.com", "bob", "Carol Ng", "dave-7"]
ITEMS = ["sku:A-1", "sku:B-2", "the book, 2nd ed.", "item 4", "item 5", "item 6", "item 7"]


def behaviors_csv(header: bool = True) -> str:
    """Every user views every item, carts four and buys three; 'item 7' is only viewed."""
    lines = ["user,item,behavior,timestamp"] if header else []
    for u, user in enumerate(USERS):
        for i, item in enumerate(ITEMS):
            quoted = f'"{item}"' if "," in item else item
            lines.append(f"{user},{quoted},view,{100 + i}")
            if (u + i) % 6 < 4:
                lines.append(f"{user},{quoted},cart,{200 + i}")
            if (u + i) % 6 < 3:
                lines.append(f"{user},{quoted},buy,{300 + i}")
    return "\n".join(lines) + "\n"


def load(tmp_path, text: str, **options):
    path = write_text(tmp_path / "events.csv", text)
    return load_dataset("csv", tmp_path, False, LoadOptions(interactions=path, **options))


def pairs(dataset, interactions):
    return {
        (dataset.user_ids[u], dataset.item_ids[i])
        for u, i in zip(interactions.users.tolist(), interactions.items.tolist())
    }


def test_target_pairs_are_the_interactions_and_others_the_behaviors(tmp_path):
    dataset = load(tmp_path, behaviors_csv(), target_behavior="buy")
    assert dataset.target_behavior == "buy" and sorted(dataset.behaviors) == ["cart", "view"]
    # String ids kept; every behavior's ids get rows ('item 7' is only viewed).
    assert dataset.user_ids == sorted(USERS) and dataset.item_ids == sorted(ITEMS)
    bought = pairs(dataset, dataset.train) | pairs(dataset, dataset.val)
    bought |= pairs(dataset, dataset.test)
    assert len(bought) == sum((u + i) % 6 < 3 for u in range(4) for i in range(7))
    assert dataset.positive_threshold == 0.0 and np.all(dataset.train.ratings == 1.0)
    assert len(pairs(dataset, dataset.behaviors["view"])) == len(USERS) * len(ITEMS)
    stats = dataset.stats()
    assert stats["behavior:cart:pairs"] == sum((u + i) % 6 < 4 for u in range(4) for i in range(7))
    assert stats["source:behavior:view:rows"] == 28
    # Another target swaps the roles.
    by_cart = load(tmp_path, behaviors_csv(), target_behavior="cart")
    assert sorted(by_cart.behaviors) == ["buy", "view"]
    assert stats["behavior:cart:pairs"] == by_cart.stats()["interactions_before_split"]


def test_every_other_behavior_is_an_auxiliary_task(tmp_path):
    dataset = load(tmp_path, behaviors_csv(header=False), target_behavior="buy")
    assert dataset_auxiliary_tasks(dataset) == ("item_pairs", "user_pairs", "cart", "view")
    assert select_auxiliary_tasks(dataset, "view") == ("view",)
    with pytest.raises(ConfigError, match="among item_pairs, user_pairs, cart, view"):
        select_auxiliary_tasks(dataset, "click")
    tasks = build_tasks(dataset, dataset_auxiliary_tasks(dataset))
    assert [task.name for task in tasks] == ["bpr", "cart", "view"]  # no pair files given


def test_unknown_or_missing_target_names_the_valid_behaviors(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown target behavior 'purchase'.*buy, cart, view"):
        load(tmp_path, behaviors_csv(), target_behavior="purchase")
    with pytest.raises(DatasetError, match="pass --target-behavior NAME, one of: buy, cart"):
        load(tmp_path, behaviors_csv())
    with pytest.raises(DatasetError, match="bpr, item_pairs, user_pairs are task names"):
        load(tmp_path, "u,a,bpr\nu,b,buy\n", target_behavior="buy")


@pytest.mark.parametrize(
    "row, reason",
    [
        ("bob,item 4", "wrong column count: expected 4 columns (user,item,behavior,timestamp)"),
        ("bob,item 4,add to cart,5", "bad behavior: behavior 'add to cart' is not"),
        ("bob,item 4,cart,soon", "non-numeric timestamp: timestamp 'soon' is not a number"),
        (",item 4,cart,5", "empty id"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, row, reason):
    text = "user,item,behavior,timestamp\nbob,item 1,buy,1\n" + row + "\n"
    with pytest.raises(MalformedRowError, match=re.escape(reason)) as error:
        load(tmp_path, text, target_behavior="buy")
    assert f"events.csv:3: {reason}" in str(error.value)
    skipped = load(tmp_path, text + "bob,item 2,buy,2\n", target_behavior="buy", skip_bad_rows=True)
    assert skipped.stats()["source:interactions:bad_rows_skipped"] == 1


def test_behavior_task_learns_from_its_own_pairs():
    pairs = Interactions(
        np.array([0, 0, 1, 2]), np.array([1, 2, 0, 3]), np.ones(4, dtype=np.float32)
    )
    task = BehaviorTask("cart", pairs, num_items=5)
    batch = task.sample(torch.arange(64), torch.Generator().manual_seed(0))
    users, positive = batch.users["user"], batch.items["positive"]
    drawn = set(zip(users.tolist(), positive.tolist()))
    assert drawn <= {(0, 1), (0, 2), (1, 0), (2, 3)} and len(users) == 64
    # Negatives are items the user has no cart pair for.
    carted = {(0, 1), (0, 2), (1, 0), (2, 3)}
    assert not carted & set(zip(users.tolist(), batch.items["negative"].tolist()))
    vectors = torch.randn(3, 4, requires_grad=True), torch.randn(5, 4, requires_grad=True)
    task.loss(*vectors, batch).backward()
    assert vectors[1].grad.abs().sum() > 0


def test_one_held_out_buy_per_user_is_seeded():
    users = np.repeat(np.arange(50), 4)
    items = np.tile(np.arange(4), 50)
    users, items = np.r_[users, 50], np.r_[items, 0]  # user 50 has a single buy
    buys = Interactions(users, items, np.ones(len(users), dtype=np.float32))
    kept, held = hold_out_one_per_user(buys)
    assert held.users.tolist() == list(range(50))  # one each, the single buy kept
    assert len(kept) == len(buys) - 50 and 50 in kept.users.tolist()
    assert len(set(held.items.tolist())) > 1  # not always the same position
    again = hold_out_one_per_user(buys)[1]
    assert np.array_equal(again.items, held.items)
    other = hold_out_one_per_user(buys, seed=1)[1]
    assert not np.array_equal(other.items, held.items)


def test_cli_unknown_target_exits_2_with_the_valid_ones(tmp_path):
    path = write_text(tmp_path / "events.csv", behaviors_csv())
    result = subprocess.run(
        [
            *(sys.executable, "-m", "trainer.fit", "--dataset", "csv"),
            *("--interactions", str(path), "--target-behavior", "order"),
            *("--out", str(tmp_path / "b")),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error_lines == [
        f"error: unknown target behavior 'order' for {path}; valid: buy, cart, view"
    ]
    assert not (tmp_path / "b").exists()
