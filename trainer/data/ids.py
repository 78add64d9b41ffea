"""External ids (the source's own ids, integers or strings) and the dense rows they map to."""

from __future__ import annotations

import numpy as np


class IdIndex:
    """Sorted unique external ids; an id's row is its position.

    Integer ids sort numerically and string ids lexicographically, so the rows of a dataset do
    not depend on the order of its files. ``strings()`` gives the ids as the bundle stores them.
    """

    def __init__(self, ids: np.ndarray):
        self.ids = ids

    @classmethod
    def encode(cls, values: np.ndarray) -> tuple[IdIndex, np.ndarray]:
        """The index of the distinct values and each value's row (int64)."""
        ids, rows = np.unique(values, return_inverse=True)
        return cls(ids), rows.reshape(-1).astype(np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, known) of each value; the row of an unknown value is meaningless."""
        values = np.asarray(values, dtype=self.ids.dtype)
        if len(self.ids) == 0:
            return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
        rows = np.searchsorted(self.ids, values).clip(max=len(self.ids) - 1)
        return rows.astype(np.int64), self.ids[rows] == values

    def subset(self, keep: np.ndarray) -> tuple[IdIndex, np.ndarray]:
        """The index of the kept rows, and each old row's new row (-1 where dropped)."""
        new_rows = np.full(len(self.ids), -1, dtype=np.int64)
        new_rows[keep] = np.arange(int(np.count_nonzero(keep)))
        return IdIndex(self.ids[keep]), new_rows

    def strings(self) -> list[str]:
        return [str(value) for value in self.ids.tolist()]


# The service takes ids of 1..256 characters without control characters (its request schema,
# and PostgreSQL text cannot hold NUL): an id it could not answer with is refused on load.
MAX_ID_LENGTH = 256


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an external id ("empty", ...), or None when it can."""
    if not value.strip():
        return "empty"
    if len(value) > MAX_ID_LENGTH:
        return f"longer than {MAX_ID_LENGTH} characters"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains a control character"
    return None
