"""Epinions and Amazon-HIN on the real files: the counts stated in ../shared/data/README.md."""

import numpy as np


def test_epinions_source_counts(epinions):
    stats = epinions.stats()
    assert stats["source:rows"] == 922_267
    assert (stats["source:users"], stats["source:max_user_id"]) == (22_164, 22_166)
    assert (stats["source:items"], stats["source:max_item_id"]) == (296_277, 296_277)
    assert stats["source:unique_pairs"] == 912_441
    assert stats["source:duplicate_rows_merged"] == 922_267 - 912_441
    assert stats["source:trust_rows"] == 355_754
    assert (stats["source:trust_unique"], stats["source:trust_self_links"]) == (355_727, 224)
    assert stats["source:trust_users"] == 18_098
    assert stats["source:categories"] == 27
    assert stats["source:items_with_several_categories"] == 577


def test_epinions_without_core_keeps_every_user_and_item(epinions):
    stats = epinions.stats()
    assert (stats["users"], stats["items"]) == (22_164, 296_277)
    assert stats["interactions_before_split"] == 912_441
    # External ids are the source's own ids, as strings.
    assert epinions.user_ids[0] == "1" and epinions.user_ids[-1] == "22166"
    assert epinions.item_ids[0] == "1" and epinions.item_ids[-1] == "296277"
    # Trust links among rated users, undirected, self-links dropped.
    social = epinions.links["social"]
    assert social.table == "user" and social.dropped["self_link"] == 224
    assert (social.pairs[:, 0] < social.pairs[:, 1]).all()
    same_category = epinions.links["same_category"]
    assert same_category.size == 296_277 + 600  # 577 items carry 2+ categories: 600 extra
    assert stats["link:same_category:groups"] == 27


def test_epinions_5core_counts(epinions_5core):
    stats = epinions_5core.stats()
    assert (stats["users"], stats["items"], stats["interactions_before_split"]) == (
        20_355,
        30_738,
        532_837,
    )
    assert stats["core"] == 5
    # Links to users and items removed by the core are dropped and counted.
    assert stats["link:social:dropped:unknown_id"] > 0
    assert stats["link:same_category:dropped:unknown_id"] == 296_877 - 31_163


def test_epinions_split_recipe(epinions):
    train, val, test = epinions.train, epinions.val, epinions.test
    # Every user keeps a training interaction; test holds positives only; about 60/20/20.
    assert len(np.unique(train.users)) == epinions.num_users
    assert test.ratings.min() > 3 and val.ratings.min() == 1
    assert 0.58 < len(train) / 912_441 < 0.62 and 0.18 < len(val) / 912_441 < 0.22
    # No pair is in two splits.
    keys = [s.users * epinions.num_items + s.items for s in (train, val, test)]
    assert len(np.unique(np.concatenate(keys))) == sum(len(k) for k in keys)


def test_amazon_hin_counts(amazon_hin, data_dir):
    from trainer.data import LoadOptions, load_dataset

    stats = amazon_hin.stats()
    assert (stats["users"], stats["items"], stats["source:rows"]) == (6_170, 2_753, 195_791)
    assert stats["interactions_before_split"] == 195_791
    assert stats["source:item_view_rows"] == 5_694 and stats["source:item_view_items"] == 1_435
    assert stats["link:co_view:pairs"] == 2_646
    assert (stats["source:item_category_rows"], stats["source:categories"]) == (5_508, 22)
    assert (stats["source:item_brand_rows"], stats["source:brands"]) == (2_753, 334)
    assert stats["link:same_brand:memberships"] == 2_753
    core = load_dataset("amazon-hin", data_dir, False, LoadOptions(core=5)).stats()
    assert (core["users"], core["items"], core["interactions_before_split"]) == (
        6_170,
        2_746,
        195_773,
    )
