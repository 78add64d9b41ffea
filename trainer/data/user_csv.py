"""Bring your own data: ``--dataset csv --interactions FILE [--item-pairs FILE]
[--user-pairs FILE]``.

Interactions: CSV rows ``user,item[,rating][,timestamp]``, ids any strings (kept as given,
surrounding spaces stripped; 1..256 characters, no control characters, as the service takes
them). An optional header line starts with ``user,item``. Every row has the column count of
the first row. Without a rating column every interaction is a positive (implicit feedback);
with one, positives are ratings > 3 (star ratings, as for every other dataset here).
Timestamps (any numbers, e.g. Unix seconds) decide which duplicate wins.

Relation files: CSV rows ``id,id`` (no header) of items (``--item-pairs``) or users
(``--user-pairs``) that belong together; each becomes an auxiliary link-prediction task
(``item_pairs``, ``user_pairs``). Rows naming ids absent from the interactions are dropped
and counted, as are self-pairs and repeats.

Malformed rows stop the load with file:line and the reason, or with ``--skip-bad-rows`` are
skipped and counted. Duplicate (user, item) rows are merged: the latest timestamp wins, else
the last row in the file. Split: seeded random 60/20/20 per user (``split.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from trainer.data.assemble import RawInteractions, assemble_dataset
from trainer.data.bad_rows import BadRows
from trainer.data.ids import IdIndex, id_problem
from trainer.data.interactions import RecDataset
from trainer.data.options import LoadOptions
from trainer.data.relations import PairRelation, Relation
from trainer.data.sources import DatasetError
from trainer.data.text_rows import csv_rows

COLUMNS = ("user", "item", "rating", "timestamp")
HEADER_NAMES = ({"user", "user_id", "userid"}, {"item", "item_id", "itemid"})
# With ratings, positives are ratings above this; without, every interaction (rating 1).
STAR_THRESHOLD = 3.0
IMPLICIT_THRESHOLD = 0.0


def _is_header(fields: list[str]) -> bool:
    return (
        len(fields) >= 2
        and fields[0].lower() in HEADER_NAMES[0]
        and fields[1].lower() in HEADER_NAMES[1]
    )


def _ids_ok(fields: list[str], names: tuple[str, ...], line: int, bad: BadRows) -> bool:
    for name, value in zip(names, fields):
        problem = id_problem(value)
        if problem:
            kind = "empty id" if problem == "empty" else "bad id"
            bad.report(line, kind, f"{name} id is {problem}")
            return False
    return True


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class InteractionReader:
    """Reads an interactions file into ``RawInteractions``; malformed rows go to ``bad``."""

    def __init__(self, path: Path, skip_bad_rows: bool):
        self.path = Path(path)
        self.bad = BadRows(self.path, skip_bad_rows)
        self.width: int | None = None
        self.width_line = 0

    def _width_ok(self, fields: list[str], line: int) -> bool:
        if self.width is None:
            if 2 <= len(fields) <= 4:
                self.width, self.width_line = len(fields), line
                return True
            self.bad.report(
                line,
                "wrong column count",
                f"expected 2 to 4 columns user,item[,rating][,timestamp], found {len(fields)}",
            )
            return False
        if len(fields) != self.width:
            self.bad.report(
                line,
                "wrong column count",
                f"expected {self.width} columns ({','.join(COLUMNS[: self.width])}) as on line "
                f"{self.width_line}, found {len(fields)}",
            )
            return False
        return True

    def _numbers(self, fields: list[str], line: int) -> list[float] | None:
        values = []
        for name, text in zip(COLUMNS[2:], fields[2:]):
            value = _number(text)
            if value is None:
                self.bad.report(line, f"non-numeric {name}", f"{name} {text!r} is not a number")
                return None
            values.append(value)
        return values

    def read(self) -> RawInteractions:
        users, items, ratings, times = [], [], [], []
        first = True
        for line, fields in csv_rows(self.path, self.bad):
            if first and _is_header(fields):
                first = False
                self._width_ok(fields, line)  # the header sets the column count
                continue
            first = False
            if not self._width_ok(fields, line) or not _ids_ok(
                fields, ("user", "item"), line, self.bad
            ):
                continue
            numbers = self._numbers(fields, line)
            if numbers is None:
                continue
            users.append(fields[0])
            items.append(fields[1])
            ratings.append(numbers[0] if numbers else 1.0)
            times.append(numbers[1] if len(numbers) > 1 else 0.0)
        return RawInteractions(
            np.array(users, dtype=object),
            np.array(items, dtype=object),
            np.array(ratings, dtype=np.float32),
            np.array(times, dtype=np.float64) if self.width == 4 else None,
        )

    @property
    def has_ratings(self) -> bool:
        return (self.width or 0) >= 3


def read_pairs(path: Path, skip_bad_rows: bool) -> tuple[np.ndarray, BadRows]:
    """[n, 2] object array of the id pairs of a relation file."""
    bad = BadRows(path, skip_bad_rows)
    pairs = []
    for line, fields in csv_rows(path, bad):
        if len(fields) != 2:
            bad.report(line, "wrong column count", f"expected 2 columns id,id, found {len(fields)}")
        elif _ids_ok(fields, ("first", "second"), line, bad):
            pairs.append((fields[0], fields[1]))
    return np.array(pairs, dtype=object).reshape(-1, 2), bad


def _pair_relation(table: str, index: IdIndex, pairs: np.ndarray) -> PairRelation:
    left, known_left = index.rows(pairs[:, 0])
    right, known_right = index.rows(pairs[:, 1])
    return PairRelation.build(table, left, right, known_left & known_right)


def load_csv(
    data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    """``data_dir`` and ``allow_download`` are unused: the files are the options' paths."""
    options = options or LoadOptions()
    if options.interactions is None:
        raise DatasetError(
            "dataset 'csv' needs --interactions FILE (CSV rows user,item[,rating][,timestamp])"
        )
    for path in (options.interactions, options.item_pairs, options.user_pairs):
        if path is not None and not Path(path).is_file():
            raise DatasetError(f"dataset 'csv': {path} does not exist")
    reader = InteractionReader(options.interactions, options.skip_bad_rows)
    raw = reader.read()
    stats = reader.bad.counts("source:interactions")
    relation_files = {
        name: (table, read_pairs(path, options.skip_bad_rows))
        for name, table, path in (
            ("item_pairs", "item", options.item_pairs),
            ("user_pairs", "user", options.user_pairs),
        )
        if path is not None
    }
    for name, (_, (pairs, bad)) in relation_files.items():
        stats.update({f"source:{name}_rows": len(pairs), **bad.counts(f"source:{name}")})

    def links(user_index: IdIndex, item_index: IdIndex) -> dict[str, Relation]:
        index = {"user": user_index, "item": item_index}
        return {
            name: _pair_relation(table, index[table], pairs)
            for name, (table, (pairs, _)) in relation_files.items()
        }

    return assemble_dataset(
        "csv",
        raw,
        positive_threshold=STAR_THRESHOLD if reader.has_ratings else IMPLICIT_THRESHOLD,
        core=options.core,
        links=links,
        source_stats=stats,
    )
