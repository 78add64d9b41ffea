"""Bring your own data: ``--dataset csv --interactions FILE [--item-pairs FILE]
[--user-pairs FILE]``.

Interactions: CSV rows ``user,item[,rating][,timestamp]``, ids any strings (kept as given,
surrounding spaces stripped; 1..256 characters, no control characters, as the service takes
them). An optional header line starts with ``user,item``. Every row has the column count of
the first row. Without a rating column every interaction is a positive (implicit feedback);
with one, positives are ratings > 3 (star ratings, as for every other dataset here).
Timestamps (any numbers, e.g. Unix seconds) decide which duplicate wins.

Several behaviors (``--target-behavior NAME``): CSV rows ``user,item,behavior[,timestamp]``
(behaviors such as ``buy``, ``cart``, ``view``: letters, digits, ``_ . -``, up to 64
characters). The target behavior's pairs are the interactions (implicit feedback, split as
above); every other behavior's pairs are training pairs of an auxiliary task of that name.
A header whose third column is ``behavior`` marks such a file; an unknown target name stops
with the behaviors the file holds.

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

from shared.components import BEHAVIOR_NAME
from trainer.data.assemble import RawBehaviors, RawInteractions, assemble_dataset
from trainer.data.bad_rows import BadRows
from trainer.data.ids import IdIndex, id_problem
from trainer.data.interactions import RecDataset
from trainer.data.options import LoadOptions
from trainer.data.relations import PairRelation, Relation
from trainer.data.sources import DatasetError
from trainer.data.text_rows import csv_rows
from trainer.registry import implements

COLUMNS = ("user", "item", "rating", "timestamp")
BEHAVIOR_COLUMNS = ("user", "item", "behavior", "timestamp")
HEADER_NAMES = ({"user", "user_id", "userid"}, {"item", "item_id", "itemid"})
BEHAVIOR_HEADER_NAMES = {"behavior", "behaviour"}
# The names of the csv dataset's other tasks: no behavior may take them.
RESERVED_BEHAVIORS = ("bpr", "item_pairs", "user_pairs")
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
    """Reads an interactions file into ``RawInteractions``; malformed rows go to ``bad``.

    ``behaviors``: the third column names a behavior (also when the header says so); the
    behavior of every row read is then in ``self.behaviors``."""

    def __init__(self, path: Path, skip_bad_rows: bool, behaviors: bool = False):
        self.path = Path(path)
        self.bad = BadRows(self.path, skip_bad_rows)
        self.width: int | None = None
        self.width_line = 0
        self.has_behaviors = behaviors
        self.behaviors: list[str] = []

    @property
    def columns(self) -> tuple[str, ...]:
        return BEHAVIOR_COLUMNS if self.has_behaviors else COLUMNS

    def _width_ok(self, fields: list[str], line: int) -> bool:
        low = 3 if self.has_behaviors else 2
        if self.width is None:
            if low <= len(fields) <= 4:
                self.width, self.width_line = len(fields), line
                return True
            expected = (
                "3 or 4 columns user,item,behavior[,timestamp]"
                if self.has_behaviors
                else "2 to 4 columns user,item[,rating][,timestamp]"
            )
            self.bad.report(line, "wrong column count", f"expected {expected}, found {len(fields)}")
            return False
        if len(fields) != self.width:
            self.bad.report(
                line,
                "wrong column count",
                f"expected {self.width} columns ({','.join(self.columns[: self.width])}) as on "
                f"line {self.width_line}, found {len(fields)}",
            )
            return False
        return True

    def _behavior_ok(self, fields: list[str], line: int) -> bool:
        if BEHAVIOR_NAME.fullmatch(fields[2]):
            return True
        self.bad.report(
            line,
            "bad behavior",
            f"behavior {fields[2]!r} is not 1..64 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit)",
        )
        return False

    def _numbers(self, fields: list[str], line: int) -> list[float] | None:
        values = []
        first = 3 if self.has_behaviors else 2
        for name, text in zip(self.columns[first:], fields[first:]):
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
                if len(fields) >= 3 and fields[2].lower() in BEHAVIOR_HEADER_NAMES:
                    self.has_behaviors = True
                self._width_ok(fields, line)  # the header sets the column count
                continue
            first = False
            if not self._width_ok(fields, line) or not _ids_ok(
                fields, ("user", "item"), line, self.bad
            ):
                continue
            if self.has_behaviors and not self._behavior_ok(fields, line):
                continue
            numbers = self._numbers(fields, line)
            if numbers is None:
                continue
            users.append(fields[0])
            items.append(fields[1])
            if self.has_behaviors:
                self.behaviors.append(fields[2])
                numbers = [1.0, *numbers]  # implicit feedback: every pair is a positive
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
        return (self.width or 0) >= 3 and not self.has_behaviors


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


@implements("dataset", "csv")
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
    reader = InteractionReader(
        options.interactions, options.skip_bad_rows, options.target_behavior is not None
    )
    raw = reader.read()
    stats = reader.bad.counts("source:interactions")
    raw, behaviors = _split_behaviors(options.interactions, reader, raw, options.target_behavior)
    stats.update({f"source:behavior:{name}:rows": len(u) for name, (u, _) in behaviors.items()})
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
        behaviors=behaviors,
        target_behavior=options.target_behavior,
    )


def _split_behaviors(
    path: Path, reader: InteractionReader, raw: RawInteractions, target: str | None
) -> tuple[RawInteractions, RawBehaviors]:
    """The target behavior's rows as the interactions, every other behavior's rows by name."""
    if not reader.has_behaviors:
        return raw, {}
    kinds = np.array(reader.behaviors, dtype=object)
    names = sorted(set(reader.behaviors))
    if target is None:
        raise DatasetError(
            f"{path} has a behavior column: pass --target-behavior NAME, one of: {', '.join(names)}"
        )
    if target not in names:
        raise DatasetError(
            f"unknown target behavior '{target}' for {path}; valid: {', '.join(names) or 'none'}"
        )
    reserved = [name for name in names if name in RESERVED_BEHAVIORS]
    if reserved:
        raise DatasetError(
            f"{path}: behavior names {', '.join(RESERVED_BEHAVIORS)} are task names; rename "
            f"{', '.join(reserved)}"
        )
    is_target = kinds == target
    times = None if raw.timestamps is None else raw.timestamps[is_target]
    target_rows = RawInteractions(
        raw.users[is_target], raw.items[is_target], raw.ratings[is_target], times
    )
    others = {
        name: (raw.users[kinds == name], raw.items[kinds == name])
        for name in names
        if name != target
    }
    return target_rows, others
