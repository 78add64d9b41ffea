"""The paper's Video Game dataset: Amazon review data 2018 (Ni, Li, McAuley, EMNLP 2019),
category Video_Games, 5-core reviews with the metadata's ``also_view`` / ``also_buy`` lists.

The files are not redistributed with this project and not downloaded by it (no published
checksums to verify them against); fetch them from the dataset's page,
https://cseweb.ucsd.edu/~jmcauley/datasets/amazon_v2/ , into ``$PMTREC_DATA_DIR/videogame/``:

- ``Video_Games_5.json.gz``: one JSON review per line, with ``reviewerID``, ``asin``,
  ``overall`` (1..5) and ``unixReviewTime`` (other fields are ignored);
- ``meta_Video_Games.json.gz``: one JSON product per line, with ``asin``, ``also_view`` and
  ``also_buy`` (lists of asins; absent means empty).

Uncompressed copies (``.json``) are read as well. Auxiliary relations (item table): ``co_view``
(A lists B in ``also_view``) and ``co_buy`` (``also_buy``), undirected; asins outside the
review data are dropped and counted. Duplicate reviews are merged (the latest wins). Split:
the Office recipe (seeded random 60/20/20 per user, positives and test > 3 stars).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainer.data.assemble import RawInteractions, assemble_dataset
from trainer.data.bad_rows import BadRows
from trainer.data.ids import IdIndex, id_problem
from trainer.data.interactions import RecDataset
from trainer.data.options import LoadOptions
from trainer.data.relations import PairRelation, Relation
from trainer.data.sources import DATA_DIR_ENV, DatasetError
from trainer.data.text_rows import json_lines
from trainer.registry import implements

PAGE = "https://cseweb.ucsd.edu/~jmcauley/datasets/amazon_v2/"
_FILES_URL = "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2"
REVIEWS = "Video_Games_5.json.gz"
METADATA = "meta_Video_Games.json.gz"
URLS = {
    REVIEWS: f"{_FILES_URL}/categoryFilesSmall/{REVIEWS}",
    METADATA: f"{_FILES_URL}/metaFiles2/{METADATA}",
}
POSITIVE_THRESHOLD = 3.0
# Metadata field -> relation name.
RELATIONS = {"also_view": "co_view", "also_buy": "co_buy"}


def find_file(folder: Path, name: str) -> Path:
    """``name`` or its uncompressed form; a DatasetError naming both files and sources."""
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    wanted = "; ".join(f"{folder / n} from {url}" for n, url in URLS.items())
    raise DatasetError(
        f"dataset 'videogame': {folder / name} is missing. It needs the Amazon 2018 Video_Games "
        f"files (see {PAGE}): {wanted} (or their uncompressed .json forms). Set {DATA_DIR_ENV} "
        f"to the folder that holds videogame/ (now {folder.parent})."
    )


def _text(record: dict, field: str, line: int, bad: BadRows) -> str | None:
    value = record.get(field)
    if value is None:
        bad.report(line, "missing field", f"'{field}' is absent")
        return None
    problem = "not a string" if not isinstance(value, str) else id_problem(value)
    if problem:
        bad.report(line, "empty id" if problem == "empty" else "bad id", f"'{field}' is {problem}")
        return None
    return value


def _number(record: dict, field: str, line: int, bad: BadRows, kind: str) -> float | None:
    value = record.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        bad.report(line, kind, f"'{field}' is {value!r}")
        return None
    return float(value)


def _review(record: dict, line: int, bad: BadRows) -> tuple[str, str, float, float] | None:
    """(reviewerID, asin, overall, unixReviewTime) of a review, None for a malformed one."""
    user = _text(record, "reviewerID", line, bad)
    item = user and _text(record, "asin", line, bad)
    if not item:
        return None
    rating = _number(record, "overall", line, bad, "non-numeric rating")
    if rating is None:
        return None
    when = _number(record, "unixReviewTime", line, bad, "non-numeric timestamp")
    return None if when is None else (user, item, rating, when)


def read_reviews(path: Path, skip_bad_rows: bool) -> tuple[RawInteractions, BadRows]:
    bad = BadRows(path, skip_bad_rows)
    reviews = [row for line, record in json_lines(path, bad) if (row := _review(record, line, bad))]
    users, items, ratings, times = zip(*reviews) if reviews else ((), (), (), ())
    raw = RawInteractions(
        np.array(users, dtype=object),
        np.array(items, dtype=object),
        np.array(ratings, dtype=np.float32),
        np.array(times, dtype=np.float64),
    )
    return raw, bad


def read_links(path: Path, skip_bad_rows: bool) -> tuple[dict[str, list[tuple[str, str]]], BadRows]:
    """(asin, listed asin) pairs per metadata field of ``RELATIONS``."""
    bad = BadRows(path, skip_bad_rows)
    links: dict[str, list[tuple[str, str]]] = {field: [] for field in RELATIONS}
    for line, record in json_lines(path, bad):
        asin = _text(record, "asin", line, bad)
        if asin is None:
            continue
        lists = {field: record.get(field) or [] for field in RELATIONS}
        wrong = [
            field
            for field, value in lists.items()
            if not (isinstance(value, list) and all(isinstance(a, str) for a in value))
        ]
        if wrong:
            bad.report(line, "bad field", f"'{wrong[0]}' is not a list of asins")
            continue
        for field, listed in lists.items():
            links[field].extend((asin, other) for other in listed)
    return links, bad


@implements("dataset", "videogame")
def load_videogame(
    data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    options = options or LoadOptions()
    folder = Path(data_dir) / "videogame"
    reviews_path, meta_path = find_file(folder, REVIEWS), find_file(folder, METADATA)
    raw, bad_reviews = read_reviews(reviews_path, options.skip_bad_rows)
    pairs, bad_meta = read_links(meta_path, options.skip_bad_rows)

    def links(user_index: IdIndex, item_index: IdIndex) -> dict[str, Relation]:
        relations: dict[str, Relation] = {}
        for field, name in RELATIONS.items():
            table = np.array(pairs[field], dtype=object).reshape(-1, 2)
            left, known_left = item_index.rows(table[:, 0])
            right, known_right = item_index.rows(table[:, 1])
            relations[name] = PairRelation.build("item", left, right, known_left & known_right)
        return relations

    return assemble_dataset(
        "videogame",
        raw,
        positive_threshold=POSITIVE_THRESHOLD,
        core=options.core,
        links=links,
        source_stats={
            **bad_reviews.counts("source:reviews"),
            **bad_meta.counts("source:metadata"),
            **{f"source:{field}_rows": len(listed) for field, listed in pairs.items()},
        },
    )
