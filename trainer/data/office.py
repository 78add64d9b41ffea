"""Amazon Office Products, 5-core, with the split behind the paper's Office numbers.

Files ``train.txt``, ``val.txt``, ``test.txt`` (CSV ``user,item,rating``, no header) from the
public repository of the paper's first author. The split is kept as published: a random
60/20/20 split per user, the test split holding only ratings > 3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.interactions import Interactions, RecDataset
from trainer.data.sources import DataFile, DatasetError, ensure_files
from trainer.registry import implements

_BASE_URL = (
    "https://raw.githubusercontent.com/YangLiangwei/GraphAU/"
    "6a1bea942fceb0d7ddf81eeee986e6e388f20da3/datasets/amazon-office"
)
FILES = (
    DataFile(
        "train.txt",
        "e52b99644acefcb761e304d14ba53da4c609c397fa384d77a01ab77be0abaf86",
        f"{_BASE_URL}/train.txt",
    ),
    DataFile(
        "val.txt",
        "4287fbbbce55063610dd8cd260316d03a7789aca48ece4e22bfb541b6d692f89",
        f"{_BASE_URL}/val.txt",
    ),
    DataFile(
        "test.txt",
        "8212ecc8059877ead8f2a9282e5864acfc1a64ecc0d66970fef91b64b2556c6a",
        f"{_BASE_URL}/test.txt",
    ),
)
# Ratings above this are positives (the source's recipe: 4 and 5 stars).
POSITIVE_THRESHOLD = 3.0


def _read_triples(path: Path) -> np.ndarray:
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise DatasetError(f"{path}: malformed row ({error})") from error
    if table.shape[1] != 3:
        raise DatasetError(f"{path}: expected 3 columns user,item,rating, found {table.shape[1]}")
    return table


@implements("dataset", "office")
def load_office(data_dir: Path, allow_download: bool = True) -> RecDataset:
    paths = ensure_files("office", Path(data_dir) / "office", FILES, allow_download)
    splits = {name: _read_triples(paths[f"{name}.txt"]) for name in ("train", "val", "test")}
    everything = np.concatenate(list(splits.values()))
    num_users = int(everything[:, 0].max()) + 1
    num_items = int(everything[:, 1].max()) + 1

    def interactions(table: np.ndarray) -> Interactions:
        return Interactions(table[:, 0], table[:, 1], table[:, 2].astype(np.float32))

    return RecDataset(
        name="office",
        user_ids=[str(u) for u in range(num_users)],
        item_ids=[str(i) for i in range(num_items)],
        train=interactions(splits["train"]),
        val=interactions(splits["val"]),
        test=interactions(splits["test"]),
        positive_threshold=POSITIVE_THRESHOLD,
    )
