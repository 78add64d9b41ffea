"""Multi-behavior e-commerce data: Tmall and Beibei, buy the target behavior, cart the
auxiliary one.

Source: the preprocessed files of the multi-behavior literature (CRGCN, MB-CGCN, DA-GCN) as
published in the public repository xizhu1022/DA-GCN (TOIS 2024), ``data/{tmall,beibei}/``.
Original data: Tmall from the IJCAI-15 Tianchi competition, Beibei from Gao et al. (ICDE 2019).
Their click files are not part of the copy read here: only buy and cart.

- ``count.txt``: JSON ``{"user": U, "item": I}``;
- ``buy_dict.txt``, ``cart_dict.txt``, ``test_dict.txt``: JSON objects mapping a user id
  (a string, 1-based) to a list of item ids (1-based integers).

Split: test is the source's leave-one-out buy per user (``test_dict.txt``). The source's
``validation_dict.txt`` is byte-identical to its test file, so it is never read: validation
is one training buy per user held out with the fixed seed ``SPLIT_SEED`` (``split.py``; a
user with a single buy keeps it). Rows are the ids that occur in any of the three files.

Validation mirrors test in one more way on Beibei (``MATCH_TEST_CART_SHARE``): its source is
a behavior chain, every buy pair is also a cart pair, so every validation buy would sit in
the user's training carts, where only 13,525 of the 21,716 test buys (62.3%) do; validation
would then be far easier than test (ALS: HR@20 0.19 on validation, 0.08 on test). The cart
pairs of a seeded subset of the validation buys are removed from the training carts so that
the share of validation buys in the carts equals the test's. On Tmall the shares already
agree (3,384 and 3,381 of 15,449) and nothing is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trainer.data.ids import IdIndex
from trainer.data.interactions import Interactions, RecDataset
from trainer.data.sources import DataFile, DatasetError, ensure_files
from trainer.data.split import SPLIT_SEED, hold_out_one_per_user
from trainer.registry import implements

TARGET = "buy"
AUXILIARY = ("cart",)
_BASE_URL = (
    "https://raw.githubusercontent.com/xizhu1022/DA-GCN/"
    "26a9d5c2412e889446e990055dc103cf2f1ac125/data"
)
_SHA256 = {
    "tmall": {
        "buy_dict.txt": "3cb729b64bb549051bc0419115bc45b5febb1afb164b83e367f44d1bfe601f35",
        "cart_dict.txt": "6e10d095e0b0a1047d26d0177600eb5ab3aade4240ad091bbf17b22277bb392a",
        "count.txt": "6beb437a02e86fda7d89e45a2095a59d89475716e31d5aed3c9c93b1a21f79bc",
        "test_dict.txt": "cf4c5bf1da5e01740f8dfbf60086d41015559f1d252dff0111fc795b988bdb09",
    },
    "beibei": {
        "buy_dict.txt": "9232f3b6cfbdcd7a08fdc258dff4ee09d03bb278cf9ee61c6de7090478692011",
        "cart_dict.txt": "2b42be07182a99e815c446a9665b8b0988a752f5cd7c4e04a9e103619bf466fa",
        "count.txt": "c03670b400b39c82f4138a9409f3788dd037f43d9154283d19669f7237c6ae76",
        "test_dict.txt": "438c1c4b709f58bff619ea82fee195e3384ab3c0d5c7f5e7e5e8b320dbac77df",
    },
}
# Datasets whose validation buys are all cart pairs by construction (see the docstring).
MATCH_TEST_CART_SHARE = frozenset({"beibei"})
FILES: dict[str, tuple[DataFile, ...]] = {
    name: tuple(
        DataFile(file, digest, f"{_BASE_URL}/{name}/{file}") for file, digest in digests.items()
    )
    for name, digests in _SHA256.items()
}


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: not a JSON file ({error})") from error


def read_user_lists(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(user ids, item ids) as int64 arrays, one entry per listed item, of a JSON object
    mapping a user id to a list of item ids."""
    value = _read_json(path)
    if not isinstance(value, dict):
        raise DatasetError(f"{path}: expected a JSON object user id -> list of item ids")
    users, items = [], []
    for user, listed in value.items():
        if not user.isdigit() or not isinstance(listed, list):
            raise DatasetError(f"{path}: user '{user}': expected a numeric id and a list")
        if not all(type(item) is int for item in listed):
            raise DatasetError(f"{path}: user '{user}': item ids must be integers")
        users.extend([int(user)] * len(listed))
        items.extend(listed)
    return np.array(users, dtype=np.int64), np.array(items, dtype=np.int64)


def _unique_pairs(users: np.ndarray, items: np.ndarray, num_items: int) -> Interactions:
    """The distinct (user, item) pairs, sorted, rating 1."""
    keys = np.unique(users * num_items + items)
    return Interactions(keys // num_items, keys % num_items, np.ones(len(keys), np.float32))


def _shared(a: Interactions, b: Interactions, num_items: int) -> int:
    return len(np.intersect1d(a.users * num_items + a.items, b.users * num_items + b.items))


def match_cart_share(
    val: Interactions,
    test: Interactions,
    cart: Interactions,
    num_items: int,
    seed: int = SPLIT_SEED,
) -> Interactions:
    """``cart`` without the pairs of a seeded subset of the validation buys, so that the
    share of validation buys among the carts equals the share of test buys (rounded to the
    nearest pair); unchanged when validation's share is not above test's."""
    cart_keys = cart.users * num_items + cart.items
    val_keys = val.users * num_items + val.items
    in_cart = np.sort(val_keys[np.isin(val_keys, cart_keys)])
    test_share = _shared(test, cart, num_items) / max(len(test), 1)
    excess = len(in_cart) - round(test_share * len(val))
    if excess <= 0:
        return cart
    dropped = np.random.default_rng(seed).choice(in_cart, size=excess, replace=False)
    keep = ~np.isin(cart_keys, dropped)
    return cart.select(keep)


def load_multi_behavior(name: str, data_dir: Path, allow_download: bool = True) -> RecDataset:
    paths = ensure_files(name, Path(data_dir) / name, FILES[name], allow_download)
    count = _read_json(paths["count.txt"])
    if not isinstance(count, dict) or not {"user", "item"} <= set(count):
        raise DatasetError(f"{paths['count.txt']}: expected a JSON object with user and item")
    sources = {file: read_user_lists(paths[f"{file}_dict.txt"]) for file in ("buy", "cart", "test")}
    users, user_rows = IdIndex.encode(np.concatenate([u for u, _ in sources.values()]))
    items, item_rows = IdIndex.encode(np.concatenate([i for _, i in sources.values()]))
    num_items = len(items)
    pairs, start = {}, 0
    for file, (file_users, _) in sources.items():
        end = start + len(file_users)
        pairs[file] = _unique_pairs(user_rows[start:end], item_rows[start:end], num_items)
        start = end
    buy, cart, test = pairs["buy"], pairs["cart"], pairs["test"]
    # The traps of a leave-one-out file: one test buy per user, never a training buy.
    if len(np.unique(test.users)) != len(test) or _shared(test, buy, num_items):
        raise DatasetError(
            f"{paths['test_dict.txt']}: expected one test buy per user, none among the "
            "user's training buys"
        )
    train, val = hold_out_one_per_user(buy)
    source_cart = cart
    if name in MATCH_TEST_CART_SHARE:
        cart = match_cart_share(val, test, cart, num_items)
    return RecDataset(
        name=name,
        user_ids=users.strings(),
        item_ids=items.strings(),
        train=train,
        val=val,
        test=test,
        positive_threshold=0.0,
        behaviors={"cart": cart},
        target_behavior=TARGET,
        source_stats={
            "source:count_users": int(count["user"]),
            "source:count_items": int(count["item"]),
            "source:max_user_id": int(users.ids.max()),
            "source:max_item_id": int(items.ids.max()),
            "source:buy_rows": len(sources["buy"][0]),
            "source:buy_users": len(np.unique(buy.users)),
            "source:buy_items": len(np.unique(buy.items)),
            "source:cart_rows": len(sources["cart"][0]),
            "source:buy_cart_shared": _shared(buy, source_cart, num_items),
            "source:test_rows": len(sources["test"][0]),
            "source:test_in_cart": _shared(test, source_cart, num_items),
            "source:val_in_cart": _shared(val, source_cart, num_items),
            "val_in_cart": _shared(val, cart, num_items),
            "cart_removed_for_val": len(source_cart) - len(cart),
        },
    )


@implements("dataset", "tmall")
def load_tmall(data_dir: Path, allow_download: bool = True) -> RecDataset:
    return load_multi_behavior("tmall", data_dir, allow_download)


@implements("dataset", "beibei")
def load_beibei(data_dir: Path, allow_download: bool = True) -> RecDataset:
    return load_multi_behavior("beibei", data_dir, allow_download)
