"""Tmall and Beibei on the real files: the counts of ../shared/data/README.md, the
leave-one-out test, the validation buy carved from the training buys, the cart pairs."""

import numpy as np
import pytest

from trainer.data import load_dataset

# (users, items in the files, count.txt's items, buy pairs, buy items, cart pairs,
#  buy pairs also carted, test buys in the user's training carts)
COUNTS = {
    "tmall": (15_449, 11_941, 11_953, 92_180, 11_844, 195_476, 19_161, 3_381),
    "beibei": (21_716, 7_977, 7_977, 282_860, 7_977, 642_622, 282_860, 13_525),
}


@pytest.fixture(scope="module", params=sorted(COUNTS))
def multi_behavior(request, data_dir):
    return load_dataset(request.param, data_dir, allow_download=False)


def keys(split, num_items):
    return split.users * num_items + split.items


def test_counts_match_the_readme(multi_behavior):
    stats = multi_behavior.stats()
    users, items, count_items, buys, buy_items, carts, shared, test_in_cart = COUNTS[
        multi_behavior.name
    ]
    assert (stats["users"], stats["source:count_users"]) == (users, users)
    assert (stats["items"], stats["source:count_items"]) == (items, count_items)
    assert stats["source:buy_rows"] == buys and stats["source:buy_items"] == buy_items
    assert stats["train"] + stats["val"] == buys
    assert stats["source:cart_rows"] == carts
    assert stats["behavior:cart:pairs"] + stats["cart_removed_for_val"] == carts
    assert stats["source:buy_cart_shared"] == shared
    assert stats["test"] == users and stats["source:test_in_cart"] == test_in_cart
    # Ids are the source's own, sorted numerically.
    assert multi_behavior.user_ids[:2] == ["1", "2"] and multi_behavior.user_ids[-1] == str(users)
    assert multi_behavior.target_behavior == "buy" and list(multi_behavior.behaviors) == ["cart"]


def test_validation_is_one_training_buy_per_user(multi_behavior, data_dir):
    dataset, n = multi_behavior, multi_behavior.num_items
    train, val, test = dataset.train, dataset.val, dataset.test
    # One validation buy and one test buy per user, every user keeps training buys.
    assert len(np.unique(val.users)) == len(val) == dataset.num_users
    assert len(np.unique(test.users)) == len(test) == dataset.num_users
    assert len(np.unique(train.users)) == dataset.num_users
    # The three splits are disjoint, so neither held-out buy is excluded as a training buy.
    all_keys = np.concatenate([keys(s, n) for s in (train, val, test)])
    assert len(np.unique(all_keys)) == len(all_keys)
    # Seeded: the same split on a second load.
    again = load_dataset(dataset.name, data_dir, allow_download=False)
    assert np.array_equal(again.val.items, val.items)


def test_validation_buys_are_in_the_carts_as_often_as_test_buys(multi_behavior):
    """Beibei's source makes every buy a cart pair; validation then drops the cart pairs of
    some validation buys so that its share in the carts is the test's (Tmall's already is)."""
    stats, users = multi_behavior.stats(), multi_behavior.num_users
    test_share = stats["source:test_in_cart"] / users
    if multi_behavior.name == "beibei":
        assert abs(stats["val_in_cart"] - test_share * users) <= 1
        assert stats["source:val_in_cart"] == users  # every validation buy was a cart pair
        assert stats["cart_removed_for_val"] == users - stats["val_in_cart"] > 8000
    else:  # 3,384 against 3,381 of 15,449: left as the source has it
        assert abs(stats["val_in_cart"] - test_share * users) <= 5
        assert stats["cart_removed_for_val"] == 0
    # Only validation buys' pairs go: the test buys' carts are the source's.
    dataset, n = multi_behavior, multi_behavior.num_items
    cart = dataset.behaviors["cart"]
    assert np.isin(keys(dataset.test, n), keys(cart, n)).sum() == stats["source:test_in_cart"]


def test_validation_file_is_never_read(multi_behavior, data_dir, tmp_path):
    """The source's validation file equals its test file: the loader works without it."""
    folder = tmp_path / multi_behavior.name
    folder.mkdir()
    for source in (data_dir / multi_behavior.name).iterdir():
        if source.name != "validation_dict.txt":
            (folder / source.name).symlink_to(source)
    without = load_dataset(multi_behavior.name, tmp_path, allow_download=False)
    assert np.array_equal(without.val.items, multi_behavior.val.items)
