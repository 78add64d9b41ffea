"""Epinions with its trust network and item categories (the paper's "Epinion" dataset).

Source: Tang, Gao, Liu, "eTrust: Understanding trust evolution in an online world", KDD 2012
(the MSU trust data), as published in the public repository YangLiangwei/ConsisRec
(``data/epinions/``) by the PMTRec first author:

- ``rating.mat`` (variable ``rating``): rows (user id, item id, category id 1..27, rating 1..5),
  ids 1-based; 922,267 rows, 912,441 distinct (user, item) pairs;
- ``trustnetwork.mat`` (variable ``trustnetwork``): rows (truster, trustee);
- ``category.txt``: the 27 category names, ``<id> <name>`` per line.

The paper's Table 1 (22,167 users / 296,278 items / 922,267 interactions) equals max id + 1
and the raw row count: the paper used every row, without a k-core. ``--core 5`` gives the
5-core (20,355 / 30,738 / 532,837) for a denser variant. Split: the Office recipe (seeded
random 60/20/20 per user; positives and test items are ratings > 3).

Auxiliary relations: ``social`` (trust links, undirected, on the user table) and
``same_category`` (items sharing a category, on the item table; 577 items carry several).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from trainer.data.assemble import RawInteractions, assemble_dataset
from trainer.data.ids import IdIndex
from trainer.data.interactions import RecDataset
from trainer.data.options import LoadOptions
from trainer.data.relations import GroupRelation, PairRelation, Relation
from trainer.data.sources import DataFile, DatasetError, ensure_files
from trainer.registry import implements

_BASE_URL = (
    "https://raw.githubusercontent.com/YangLiangwei/ConsisRec/"
    "4a6ff5935a65f92f222b682c38af8dee3add6870/data/epinions"
)
FILES = (
    DataFile(
        "rating.mat",
        "4fe1dd12896dbfc3d2b3e696c749947382d9725add4545cb6c44ee11c8e22159",
        f"{_BASE_URL}/rating.mat",
    ),
    DataFile(
        "trustnetwork.mat",
        "9cd648ab98c2e02799bfed0ae186dbc8736e97178d18bf471cc168770f39cf0a",
        f"{_BASE_URL}/trustnetwork.mat",
    ),
    DataFile(
        "category.txt",
        "45c8d398a53e6d8eff36aaf237e717b37a1b61cae8ab8c484c9b7c0fb7bfeaaa",
        f"{_BASE_URL}/category.txt",
    ),
)
POSITIVE_THRESHOLD = 3.0


def read_mat(path: Path, variable: str, columns: int) -> np.ndarray:
    """One int64 matrix of a MATLAB file."""
    try:
        table = scipy.io.loadmat(path, variable_names=[variable])[variable]
    except (KeyError, ValueError, OSError, NotImplementedError) as error:
        raise DatasetError(f"{path}: cannot read variable '{variable}' ({error})") from error
    if table.ndim != 2 or table.shape[1] != columns:
        raise DatasetError(f"{path}: '{variable}' should be n x {columns}, found {table.shape}")
    return table.astype(np.int64)


def read_category_names(path: Path) -> dict[int, str]:
    names = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        key, _, name = line.strip().partition(" ")
        if not key.isdigit() or not name:
            raise DatasetError(f"{path}:{number}: expected '<id> <name>', found {line!r}")
        names[int(key)] = name
    return names


@implements("dataset", "epinions")
def load_epinions(
    data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    options = options or LoadOptions()
    paths = ensure_files("epinions", Path(data_dir) / "epinions", FILES, allow_download)
    rating = read_mat(paths["rating.mat"], "rating", 4)
    trust = read_mat(paths["trustnetwork.mat"], "trustnetwork", 2)
    names = read_category_names(paths["category.txt"])
    users, items, categories, stars = rating.T
    if not set(np.unique(categories).tolist()) <= set(names):
        raise DatasetError(f"{paths['rating.mat']}: category ids outside {paths['category.txt']}")
    # One membership per distinct (item, category); categories as 0-based group ids.
    memberships = np.unique(np.stack([items, categories - 1], axis=1), axis=0)
    distinct_links = np.unique(trust, axis=0)

    def links(user_index: IdIndex, item_index: IdIndex) -> dict[str, Relation]:
        truster, known_truster = user_index.rows(trust[:, 0])
        trustee, known_trustee = user_index.rows(trust[:, 1])
        item_rows, known_item = item_index.rows(memberships[:, 0])
        return {
            "social": PairRelation.build("user", truster, trustee, known_truster & known_trustee),
            "same_category": GroupRelation.build("item", item_rows, memberships[:, 1], known_item),
        }

    return assemble_dataset(
        "epinions",
        RawInteractions(users, items, stars.astype(np.float32)),
        positive_threshold=POSITIVE_THRESHOLD,
        core=options.core,
        links=links,
        source_stats={
            "source:max_user_id": int(users.max()),
            "source:max_item_id": int(items.max()),
            "source:categories": len(names),
            "source:items_with_several_categories": int(
                np.count_nonzero(np.bincount(memberships[:, 0]) > 1)
            ),
            "source:trust_rows": len(trust),
            "source:trust_unique": len(distinct_links),
            "source:trust_self_links": int(np.count_nonzero(trust[:, 0] == trust[:, 1])),
            "source:trust_users": len(np.unique(trust)),
        },
    )
