"""Bring-your-own CSV data: string ids, the duplicate rule, relation files, malformed rows."""

import numpy as np
import pytest

from tests.data.conftest import write_text
from trainer.data import DatasetError, LoadOptions, load_dataset
from trainer.data.bad_rows import MalformedRowError

USERS = ["alice@example.com", "bob", "Carol Ng", "dave-7", "éva"]
ITEMS = ["sku:A-1", "sku:B-2", "the book, 2nd ed.", "item 4", "item 5", "item 6"]


def ratings_csv(header: bool = True) -> str:
    """Every user rates every item; 'the book, 2nd ed.' needs CSV quoting."""
    lines = ["user,item,rating,timestamp"] if header else []
    for u, user in enumerate(USERS):
        for i, item in enumerate(ITEMS):
            quoted = f'"{item}"' if "," in item else item
            lines.append(f"{user},{quoted},{1 + (u + i) % 5},{1000 + 10 * i}")
    return "\n".join(lines) + "\n"


def load(tmp_path, text: str, **options):
    path = write_text(tmp_path / "ratings.csv", text)
    return load_dataset("csv", tmp_path, False, LoadOptions(interactions=path, **options))


def test_string_ids_are_kept(tmp_path):
    dataset = load(tmp_path, ratings_csv())
    assert dataset.user_ids == sorted(USERS) and dataset.item_ids == sorted(ITEMS)
    assert dataset.positive_threshold == 3.0
    assert dataset.stats()["interactions_before_split"] == len(USERS) * len(ITEMS)


def test_header_is_optional_and_ratings_are_optional(tmp_path):
    assert load(tmp_path, ratings_csv(header=False)).num_users == len(USERS)
    implicit = load(tmp_path, "u1,i1\nu1,i2\nu2,i1\n")
    assert implicit.positive_threshold == 0.0 and np.all(implicit.train.ratings == 1.0)
    assert len(implicit.train_positive) == len(implicit.train)


def test_duplicates_keep_the_latest(tmp_path):
    # Users with 2 distinct items keep both for training (see split.held_out_count).
    text = "u,a,2,200\nu,a,5,100\nv,b,4,50\nv,b,1,50\nu,c,5,10\nu,c,4,10\nv,d,5,1\n"
    dataset = load(tmp_path, text)
    train = dataset.train
    rating = {
        (dataset.user_ids[u], dataset.item_ids[i]): r
        for u, i, r in zip(train.users, train.items, train.ratings)
    }
    # (u, a): the later timestamp wins over the higher rating; (v, b), (u, c): equal
    # timestamps, the later row wins.
    assert rating == {("u", "a"): 2.0, ("u", "c"): 4.0, ("v", "b"): 1.0, ("v", "d"): 5.0}
    assert dataset.stats()["source:duplicate_rows_merged"] == 3
    without_timestamps = load(tmp_path, "u,a,5\nu,a,2\nu,b,5\n")
    assert sorted(without_timestamps.train.ratings.tolist()) == [2.0, 5.0]


@pytest.mark.parametrize(
    ("row", "line", "reason"),
    [
        ("carol,item 1", 3, "wrong column count: expected 3 columns (user,item,rating)"),
        ("carol,item 1,5,9,9", 3, "wrong column count"),
        ("carol,item 1,five", 3, "non-numeric rating: rating 'five' is not a number"),
        ("carol,item 1,nan", 3, "non-numeric rating"),
        (",item 1,4", 3, "empty id: user id is empty"),
        ("carol,  ,4", 3, "empty id: item id is empty"),
        ('carol,"unterminated,4', 3, "unreadable row"),
    ],
)
def test_malformed_row_names_file_line_and_reason(tmp_path, row, line, reason):
    text = "alice,item 1,5\nbob,item 2,4\n" + row + "\nbob,item 1,4\n"
    with pytest.raises(MalformedRowError) as error:
        load(tmp_path, text)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'ratings.csv'}:{line}: ")
    assert reason in message and "--skip-bad-rows" in message


def test_skip_bad_rows_skips_and_counts(tmp_path):
    text = (
        "user,item,rating\n"
        "alice,item 1,5\n"
        "bob,item 2\n"  # wrong column count
        "bob,item 2,great\n"  # non-numeric rating
        ",item 3,4\n"  # empty id
        "\n"  # blank lines are not rows
        "bob,item 1,4\n"
        "carol,item 2,5\n"
    )
    dataset = load(tmp_path, text, skip_bad_rows=True)
    stats = dataset.stats()
    assert stats["source:interactions:bad_rows_skipped"] == 3
    assert stats["source:interactions:bad_rows_skipped:wrong column count"] == 1
    assert stats["source:interactions:bad_rows_skipped:non-numeric rating"] == 1
    assert stats["source:interactions:bad_rows_skipped:empty id"] == 1
    assert stats["source:rows"] == 3 and dataset.user_ids == ["alice", "bob", "carol"]


def test_relation_files_drop_and_count_unknown_ids(tmp_path):
    item_pairs = write_text(
        tmp_path / "items.csv",
        'sku:A-1,sku:B-2\nsku:B-2,sku:A-1\n"the book, 2nd ed.",item 4\nsku:A-1,sku:A-1\n'
        "sku:A-1,no such item\n",
    )
    user_pairs = write_text(tmp_path / "users.csv", "alice@example.com,bob\nbob,mallory\n")
    dataset = load(tmp_path, ratings_csv(), item_pairs=item_pairs, user_pairs=user_pairs)
    items, users = dataset.links["item_pairs"], dataset.links["user_pairs"]
    assert items.table == "item" and users.table == "user"
    assert {tuple(sorted(dataset.item_ids[r] for r in pair)) for pair in items.pairs} == {
        ("sku:A-1", "sku:B-2"),
        ("item 4", "the book, 2nd ed."),
    }
    assert items.dropped == {"unknown_id": 1, "self_link": 1, "repeated_pair": 1}
    assert users.size == 1 and users.dropped["unknown_id"] == 1
    stats = dataset.stats()
    assert stats["link:item_pairs:dropped:unknown_id"] == 1
    assert stats["source:item_pairs_rows"] == 5


def test_missing_and_refused_options(tmp_path, data_dir):
    with pytest.raises(DatasetError, match="needs --interactions"):
        load_dataset("csv", tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("csv", tmp_path, options=LoadOptions(interactions=tmp_path / "none.csv"))
    with pytest.raises(DatasetError, match="'office' does not take --core"):
        load_dataset("office", data_dir, False, LoadOptions(core=5))
    with pytest.raises(DatasetError, match="no positive training interaction"):
        load(tmp_path, "u,a,1\nu,b,0\n")


def test_ids_the_service_cannot_answer_with_are_malformed(tmp_path):
    with pytest.raises(MalformedRowError, match="longer than 256"):
        load(tmp_path, f"u,{'x' * 300},5\n")


def test_an_open_quote_never_swallows_the_next_rows(tmp_path, caplog):
    """Issue 18 item 6: a quote left open is its own line's problem; every later row is kept
    and each skipped line is reported as file:line."""
    good = [f"user{n},item {n % 7},{1 + n % 5}" for n in range(45)]
    text = (
        "alice,item 1,5\n"
        "bob,item 2,4\n"
        'carol,"unterminated,4\n'  # line 3
        + "\n".join(good[:20])
        + '\ndave,item 3,"open\n'  # line 24
        + "\n".join(good[20:])
        + "\n"
    )
    with caplog.at_level("WARNING", logger="trainer.data.bad_rows"):
        dataset = load(tmp_path, text, skip_bad_rows=True)
    stats = dataset.stats()
    assert stats["source:interactions:bad_rows_skipped"] == 2
    assert stats["source:interactions:bad_rows_skipped:unreadable row"] == 2
    assert stats["source:rows"] == 2 + 45
    path = tmp_path / "ratings.csv"
    logged = [record.getMessage() for record in caplog.records]
    assert any(message.startswith(f"{path}:3: ") for message in logged)
    assert any(message.startswith(f"{path}:24: ") for message in logged)
    assert any("quoted field is not closed" in message for message in logged)
