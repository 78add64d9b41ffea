"""Ranking samples from multi-behavior pairs (trainer/ranking/pairs.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from trainer.ranking.pairs import build_behavior_samples, sample_negatives


def _pair_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, pairs.tolist()))


def test_train_samples_label_every_behavior_and_negatives_avoid_training_pairs(behaviors):
    ratio = 3
    samples = build_behavior_samples(behaviors, negative_ratio=ratio, seed=1)
    assert samples.schema.tasks == ("buy", "cart")
    assert samples.schema.categorical == ("user", "item")
    assert samples.schema.user_feature == "user"
    assert samples.schema.cardinalities == (behaviors.num_users + 1, behaviors.num_items + 1)
    buy, cart = _pair_set(behaviors.train["buy"]), _pair_set(behaviors.train["cart"])
    positives = buy | cart
    rows = samples.train.categorical - 1  # the features are rows + 1
    labels = samples.train.labels
    assert len(samples.train) == len(positives) * (1 + ratio)
    assert samples.train.numeric.shape == (len(samples.train), 0)
    for (user, item), (is_buy, is_cart) in zip(rows.tolist(), labels.tolist()):
        if is_buy or is_cart:
            assert (is_buy == 1.0) == ((user, item) in buy)
            assert (is_cart == 1.0) == ((user, item) in cart)
        else:
            assert (user, item) not in positives
    positive_rows = rows[labels.max(axis=1) == 1]
    assert _pair_set(positive_rows) == positives
    # Each positive brings `ratio` negatives of its own user.
    negative_users = np.sort(rows[labels.max(axis=1) == 0][:, 0])
    assert np.array_equal(negative_users, np.sort(np.repeat(positive_rows[:, 0], ratio)))


def test_held_out_samples_are_the_held_out_buys_plus_negatives(behaviors):
    samples = build_behavior_samples(behaviors, negative_ratio=2, seed=0)
    training = _pair_set(behaviors.train["buy"]) | _pair_set(behaviors.train["cart"])
    cart = _pair_set(behaviors.train["cart"])
    for split in ("val", "test"):
        held = _pair_set(getattr(behaviors, split))
        rows = getattr(samples, split).categorical - 1
        labels = getattr(samples, split).labels
        assert _pair_set(rows[labels[:, 0] == 1]) == held
        assert len(rows) == 3 * len(held)
        for (user, item), (is_buy, is_cart) in zip(rows.tolist(), labels.tolist()):
            if is_buy:
                assert (is_cart == 1.0) == ((user, item) in cart)
            else:
                assert is_cart == 0.0
                assert (user, item) not in training and (user, item) not in held


def test_validation_samples_do_not_read_the_test_pairs(behaviors):
    other_test = replace(behaviors, test=behaviors.test[: len(behaviors.test) // 2])
    first = build_behavior_samples(behaviors, seed=4)
    second = build_behavior_samples(other_test, seed=4)
    assert np.array_equal(first.val.categorical, second.val.categorical)
    assert np.array_equal(first.val.labels, second.val.labels)
    assert np.array_equal(first.train.categorical, second.train.categorical)
    assert len(second.test) < len(first.test)


def test_vocabularies_map_external_ids_to_bundle_rows_plus_one(behaviors):
    samples = build_behavior_samples(behaviors)
    assert samples.vocabularies["user"][behaviors.user_ids[0]] == 1
    assert samples.vocabularies["item"][behaviors.item_ids[-1]] == behaviors.num_items
    assert samples.stats()["negative_ratio"] == 3


def test_negative_sampling_refuses_a_user_with_every_item_excluded():
    rng = np.random.default_rng(0)
    excluded = np.arange(5)  # user 0 has every one of the 5 items
    with pytest.raises(ValueError, match="no negative item left"):
        sample_negatives(np.array([0]), 5, excluded, rng)
    items = sample_negatives(np.array([1, 1, 1]), 5, excluded, rng)
    assert items.shape == (3,) and items.min() >= 0 and items.max() < 5


def test_a_ratio_below_one_and_an_unknown_target_are_refused(behaviors, buy_dataset):
    from trainer.twostage import behavior_pairs

    with pytest.raises(ValueError, match="at least 1"):
        build_behavior_samples(behaviors, negative_ratio=0)
    with pytest.raises(ValueError, match="no training pairs"):
        replace(behaviors, target="like")
    assert behavior_pairs(buy_dataset).behaviors == ("buy",)


def test_unlabelled_other_behaviors_leave_a_pairs_missing_behaviors_out_of_the_loss(behaviors):
    import torch

    from trainer.ranking.models import RankerConfig, build_ranker

    negative = build_behavior_samples(behaviors, negative_ratio=2, seed=3)
    unlabelled = build_behavior_samples(
        behaviors, negative_ratio=2, seed=3, other_behaviors="unlabelled"
    )
    # The same pairs; a training positive's 0 labels become NaN, negatives keep 0.
    assert np.array_equal(negative.train.categorical, unlabelled.train.categorical)
    labels, plain = unlabelled.train.labels, negative.train.labels
    positive = plain.max(axis=1) == 1
    assert np.array_equal(np.isnan(labels), positive[:, None] & (plain == 0))
    assert np.isnan(labels).any() and not np.isnan(labels[~positive]).any()
    assert np.array_equal(np.nan_to_num(labels), plain)
    # Held-out samples are labelled in full.
    assert np.array_equal(unlabelled.val.labels, negative.val.labels)
    # The loss of a task is the mean over the samples that carry its label.
    torch.manual_seed(0)
    model = build_ranker("mmoe", unlabelled.schema, RankerConfig(dim=4, num_experts=2))
    categorical = torch.from_numpy(unlabelled.train.categorical)
    logits = model(categorical, torch.zeros(len(categorical), 0))
    losses = model.task_losses(logits, torch.from_numpy(labels))
    for t, loss in enumerate(losses):
        seen = ~np.isnan(labels[:, t])
        expected = torch.nn.functional.binary_cross_entropy_with_logits(
            logits[torch.from_numpy(seen), t], torch.from_numpy(labels[seen, t])
        )
        torch.testing.assert_close(loss, expected)
    with pytest.raises(ValueError, match="unknown other_behaviors"):
        build_behavior_samples(behaviors, other_behaviors="maybe")


def test_history_features_say_which_other_behaviors_the_user_has_on_the_item(behaviors):
    from trainer.ranking.pairs import BehaviorHistory

    samples = build_behavior_samples(behaviors, negative_ratio=2, seed=4, history=True)
    assert samples.schema.numeric == ("history:cart",)
    cart = _pair_set(behaviors.train["cart"])
    for split in (samples.train, samples.val, samples.test):
        rows = split.categorical - 1
        expected = [float((u, i) in cart) for u, i in rows.tolist()]
        assert split.numeric[:, 0].tolist() == expected
    assert samples.train.numeric[:, 0].any() and not samples.train.numeric[:, 0].all()
    # The same pairs and labels as without the features.
    plain = build_behavior_samples(behaviors, negative_ratio=2, seed=4)
    assert np.array_equal(plain.train.categorical, samples.train.categorical)
    assert np.array_equal(plain.train.labels, samples.train.labels)
    # The bundle's form: each user row's carted item rows.
    history = BehaviorHistory.of(behaviors)
    indptr, indices = history.csr(behaviors.num_users)["cart"]
    assert len(indptr) == behaviors.num_users + 1 and indptr[-1] == len(cart)
    again = {
        (u, int(i)) for u in range(behaviors.num_users) for i in indices[indptr[u] : indptr[u + 1]]
    }
    assert again == cart
