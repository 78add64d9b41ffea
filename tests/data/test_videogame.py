"""The Amazon 2018 Video_Games loader on a small fixture in the published format."""

import gzip

import numpy as np
import pytest

from tests.data.conftest import REVIEWERS, review, write_json_lines_gz
from trainer.data import DatasetError, LoadOptions, load_dataset
from trainer.data.bad_rows import MalformedRowError


def test_reviews_and_also_view_also_buy(videogame_dir):
    dataset = load_dataset("videogame", videogame_dir, allow_download=False)
    stats = dataset.stats()
    assert (dataset.num_users, dataset.num_items) == (6, 5)
    assert (stats["source:rows"], stats["source:duplicate_rows_merged"]) == (31, 1)
    assert dataset.item_ids == ["B000A", "B000B", "B000C", "B000D", "B000E"]
    assert dataset.user_ids == sorted(REVIEWERS)
    # The later review (5 stars) replaced the earlier one (2 stars).
    rows = [s for s in (dataset.train, dataset.val, dataset.test)]
    pairs = {
        (dataset.user_ids[u], dataset.item_ids[i]): r
        for split in rows
        for u, i, r in zip(split.users, split.items, split.ratings)
    }
    assert pairs[("A0REVIEWER", "B000B")] == 5.0
    co_view, co_buy = dataset.links["co_view"], dataset.links["co_buy"]
    named = lambda rel: {(dataset.item_ids[a], dataset.item_ids[b]) for a, b in rel.pairs}  # noqa: E731
    assert named(co_view) == {("B000A", "B000B"), ("B000A", "B000C")}
    assert co_view.dropped == {"unknown_id": 2, "self_link": 0, "repeated_pair": 1}
    assert named(co_buy) == {("B000A", "B000D"), ("B000C", "B000E")}
    assert co_buy.dropped["self_link"] == 1
    assert stats["source:also_view_rows"] == 5 and stats["source:also_buy_rows"] == 3


def test_missing_files_name_the_files_and_their_source(tmp_path):
    with pytest.raises(DatasetError) as error:
        load_dataset("videogame", tmp_path, allow_download=False)
    message = str(error.value)
    assert str(tmp_path / "videogame" / "Video_Games_5.json.gz") in message
    assert "meta_Video_Games.json.gz" in message and "PMTREC_DATA_DIR" in message
    assert "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/" in message


def test_uncompressed_files_are_read(videogame_dir):
    folder = videogame_dir / "videogame"
    for name in ("Video_Games_5.json.gz", "meta_Video_Games.json.gz"):
        with gzip.open(folder / name, "rb") as packed:
            (folder / name.removesuffix(".gz")).write_bytes(packed.read())
        (folder / name).unlink()
    assert load_dataset("videogame", videogame_dir, allow_download=False).num_items == 5


def test_malformed_review_stops_with_line_or_is_skipped(videogame_dir):
    path = videogame_dir / "videogame" / "Video_Games_5.json.gz"
    with gzip.open(path, "rt") as handle:
        lines = handle.read().splitlines()
    bad = review("A9", "B000A", 5.0, 1)
    bad["overall"] = "five"
    lines[3:3] = ["{not json", '{"reviewerID": "", "asin": "B000A"}', __import__("json").dumps(bad)]
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(lines) + "\n")
    with pytest.raises(MalformedRowError) as error:
        load_dataset("videogame", videogame_dir, allow_download=False)
    assert error.value.line == 4 and "invalid JSON" in str(error.value)
    dataset = load_dataset("videogame", videogame_dir, False, LoadOptions(skip_bad_rows=True))
    stats = dataset.stats()
    assert stats["source:reviews:bad_rows_skipped"] == 3
    assert stats["source:reviews:bad_rows_skipped:invalid JSON"] == 1
    assert stats["source:reviews:bad_rows_skipped:empty id"] == 1
    assert stats["source:reviews:bad_rows_skipped:non-numeric rating"] == 1
    assert dataset.num_users == 6


def test_core_option_filters(videogame_dir):
    write_json_lines_gz(
        videogame_dir / "videogame" / "Video_Games_5.json.gz",
        [review(f"U{u}", f"I{i}", 5.0, 1) for u in range(3) for i in range(3)]
        + [review("LONE", "I0", 4.0, 2)],
    )
    dataset = load_dataset("videogame", videogame_dir, False, LoadOptions(core=3))
    assert "LONE" not in dataset.user_ids and dataset.num_users == 3
    assert np.all(dataset.train.ratings == 5.0)
