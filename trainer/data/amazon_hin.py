"""An Amazon product subset with also-viewed, category and brand: the closest real data to
the paper's Video Game dataset that can be had here. It is NOT the paper's Video Game data
(Amazon 2018 Video_Games 5-core with also_view / also_buy); that one has its own loader,
``videogame``, for when its files are available.

Source: public repository librahu/HIN-Datasets-for-Recommendation-and-Network-Embedding
(``Amazon/``), an Amazon review subset (McAuley et al.) whose product category is not stated:

- ``user_item.dat``: TSV ``user item rating unix_time`` (6,170 users, 2,753 items, 195,791);
- ``item_view.dat``: CSV ``item,view_id``: items viewed together with the product view_id;
- ``item_category.dat``: CSV ``item,category`` (22 categories, an item may have several);
- ``item_brand.dat``: CSV ``item,brand`` (334 brands, one per item). No co-buy relation.

Auxiliary relations: ``co_view`` (items that share an also-viewed product: 2,646 pairs),
``same_brand`` and ``same_category`` (shared group; category 0 holds 2,731 of the 2,753
items). The default tasks, co_view and same_category, were chosen on validation Recall@20
(same_brand lowered it; docs/datasets.md).
Split: the Office recipe (seeded random 60/20/20 per user, positives and test > 3 stars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.assemble import RawInteractions, assemble_dataset
from trainer.data.ids import IdIndex
from trainer.data.interactions import RecDataset
from trainer.data.options import LoadOptions
from trainer.data.relations import GroupRelation, PairRelation, Relation, co_member_pairs
from trainer.data.sources import DataFile, DatasetError, ensure_files
from trainer.registry import implements

_BASE_URL = (
    "https://raw.githubusercontent.com/librahu/HIN-Datasets-for-Recommendation-and-Network-"
    "Embedding/252e54de33c0a3789932e0ff90af726830a80bb8/Amazon"
)
FILES = (
    DataFile(
        "user_item.dat",
        "d14fcc5b04f0d701d326149bc4f18d471156f189ff1f4d0fefa14511c4cb42c8",
        f"{_BASE_URL}/user_item.dat",
    ),
    DataFile(
        "item_view.dat",
        "42b1aec0a0eb9d71a265efb491dd951b523723637bb18f80f87c72d4fa6819da",
        f"{_BASE_URL}/item_view.dat",
    ),
    DataFile(
        "item_category.dat",
        "17b9158f777fbb0b8b035a9b675c2f7d2e9f7ad81f34919d3e6db4289c9dc6bf",
        f"{_BASE_URL}/item_category.dat",
    ),
    DataFile(
        "item_brand.dat",
        "65f4eaddff343a365ad474a6841bbaf541af1b2d96081c4adaeeeb8a7a8a313b",
        f"{_BASE_URL}/item_brand.dat",
    ),
)
POSITIVE_THRESHOLD = 3.0


def read_table(path: Path, delimiter: str | None, columns: int) -> np.ndarray:
    try:
        table = np.loadtxt(path, delimiter=delimiter, dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise DatasetError(f"{path}: malformed row ({error})") from error
    if table.shape[1] != columns:
        raise DatasetError(f"{path}: expected {columns} columns, found {table.shape[1]}")
    return table


def _group_relation(item_index: IdIndex, table: np.ndarray) -> GroupRelation:
    rows, known = item_index.rows(table[:, 0])
    groups = IdIndex.encode(table[:, 1])[1]
    return GroupRelation.build("item", rows, groups, known)


@implements("dataset", "amazon-hin")
def load_amazon_hin(
    data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    options = options or LoadOptions()
    paths = ensure_files("amazon-hin", Path(data_dir) / "amazon-hin", FILES, allow_download)
    ratings = read_table(paths["user_item.dat"], None, 4)
    views = read_table(paths["item_view.dat"], ",", 2)
    categories = read_table(paths["item_category.dat"], ",", 2)
    brands = read_table(paths["item_brand.dat"], ",", 2)
    users, items, stars, times = ratings.T

    def links(user_index: IdIndex, item_index: IdIndex) -> dict[str, Relation]:
        rows, known = item_index.rows(views[:, 0])
        left, right = co_member_pairs(rows[known], views[known, 1])
        co_view = PairRelation.build(
            "item",
            left,
            right,
            np.ones(len(left), dtype=bool),
            dropped={"unknown_id": int(np.count_nonzero(~known))},
        )
        return {
            "co_view": co_view,
            "same_brand": _group_relation(item_index, brands),
            "same_category": _group_relation(item_index, categories),
        }

    return assemble_dataset(
        "amazon-hin",
        RawInteractions(users, items, stars.astype(np.float32), times),
        positive_threshold=POSITIVE_THRESHOLD,
        core=options.core,
        links=links,
        source_stats={
            "source:item_view_rows": len(views),
            "source:item_view_items": len(np.unique(views[:, 0])),
            "source:view_ids": len(np.unique(views[:, 1])),
            "source:item_category_rows": len(categories),
            "source:categories": len(np.unique(categories[:, 1])),
            "source:item_brand_rows": len(brands),
            "source:brands": len(np.unique(brands[:, 1])),
        },
    )
