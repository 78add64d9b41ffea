"""Auxiliary relations among the rows of one table: the side information that PMTRec's
auxiliary tasks learn from (Yang et al., IEEE BigData 2024, Section IV: social links and
same-category items on Epinions, co-view and co-buy items on Video Game).

Two forms:

- ``PairRelation``: explicit links (a user trusts a user, an item is viewed with an item),
  kept as unique undirected row pairs; the task scores each side against the other.
- ``GroupRelation``: rows linked through a shared group (a category, a brand), kept as
  (row, group) memberships. The linked pairs are never materialised (a category of 60k items
  would give ~1.8e9 pairs); the task samples a partner from the anchor's group instead.

Rows naming ids the dataset does not know, self-links and repeats are dropped and counted in
``dropped`` (shown by ``python -m trainer.data stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Table = Literal["user", "item"]


def _drop(keep: np.ndarray, reason: str, dropped: dict[str, int]) -> None:
    count = int(np.count_nonzero(~keep))
    dropped[reason] = dropped.get(reason, 0) + count


@dataclass(frozen=True)
class PairRelation:
    """Explicit undirected links between rows of the ``table`` table."""

    table: Table
    # [n, 2] int64 unique row pairs, left < right, sorted.
    pairs: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        table: Table,
        left: np.ndarray,
        right: np.ndarray,
        known: np.ndarray,
        dropped: dict[str, int] | None = None,
    ) -> PairRelation:
        """From source rows (left[i], right[i]); ``known`` marks rows whose two ids both map to
        a row of the table. Keeps each unordered pair once; drops unknown ids and self-links."""
        dropped = dict(dropped or {})
        _drop(known, "unknown_id", dropped)
        left, right = left[known], right[known]
        distinct = left != right
        _drop(distinct, "self_link", dropped)
        low = np.minimum(left[distinct], right[distinct])
        high = np.maximum(left[distinct], right[distinct])
        pairs = np.unique(np.stack([low, high], axis=1).astype(np.int64).reshape(-1, 2), axis=0)
        dropped["repeated_pair"] = dropped.get("repeated_pair", 0) + len(low) - len(pairs)
        return cls(table, pairs, dropped)

    @property
    def size(self) -> int:
        return len(self.pairs)

    def stats(self, name: str) -> dict[str, int]:
        rows = np.unique(self.pairs)
        return {
            f"link:{name}:pairs": self.size,
            f"link:{name}:{self.table}s": len(rows),
            **{f"link:{name}:dropped:{reason}": n for reason, n in self.dropped.items()},
        }


@dataclass(frozen=True)
class GroupRelation:
    """Rows of the ``table`` table linked by sharing a group (``num_groups`` groups)."""

    table: Table
    # [n, 2] int64 unique (row, group) memberships, sorted by (group, row).
    members: np.ndarray
    num_groups: int
    dropped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        table: Table,
        rows: np.ndarray,
        groups: np.ndarray,
        known: np.ndarray,
        dropped: dict[str, int] | None = None,
    ) -> GroupRelation:
        """From source rows (row[i] belongs to groups[i], groups as dense ids 0..G-1)."""
        dropped = dict(dropped or {})
        _drop(known, "unknown_id", dropped)
        rows, groups = rows[known].astype(np.int64), groups[known].astype(np.int64)
        num_groups = int(groups.max(initial=-1)) + 1
        width = int(rows.max(initial=0)) + 1
        keys = np.unique(groups * width + rows)  # sorted by (group, row)
        members = np.stack([keys % width, keys // width], axis=1).reshape(-1, 2)
        dropped["duplicate"] = dropped.get("duplicate", 0) + len(rows) - len(members)
        return cls(table, members, num_groups, dropped)

    @property
    def size(self) -> int:
        return len(self.members)

    def group_sizes(self) -> np.ndarray:
        return np.bincount(self.members[:, 1], minlength=self.num_groups)

    def linked_pairs(self) -> int:
        """Distinct row pairs that share at least one group, counted without materialising
        them: sum over groups of C(size, 2), less the extra counts of pairs that share several
        groups (only rows in several groups can; their overlaps are counted in blocks)."""
        sizes = self.group_sizes().astype(np.int64)
        total = int((sizes * (sizes - 1) // 2).sum())
        rows, counts = np.unique(self.members[:, 0], return_counts=True)
        multi = rows[counts > 1]
        if len(multi) < 2:
            return total
        in_multi = np.isin(self.members[:, 0], multi)
        membership = np.zeros((len(multi), self.num_groups), dtype=np.float32)
        membership[np.searchsorted(multi, self.members[in_multi, 0]), self.members[in_multi, 1]] = (
            1.0
        )
        block = max(1, (1 << 22) // len(multi))
        for start in range(0, len(multi), block):
            shared = membership[start : start + block] @ membership.T
            upper = np.arange(len(multi))[None, :] > np.arange(start, start + len(shared))[:, None]
            total -= int(np.clip(shared[upper] - 1, 0, None).sum())
        return total

    def stats(self, name: str) -> dict[str, int]:
        sizes = self.group_sizes()
        return {
            f"link:{name}:memberships": self.size,
            f"link:{name}:{self.table}s": len(np.unique(self.members[:, 0])),
            f"link:{name}:groups": int(np.count_nonzero(sizes)),
            f"link:{name}:linked_pairs": self.linked_pairs(),
            **{f"link:{name}:dropped:{reason}": n for reason, n in self.dropped.items()},
        }


Relation = PairRelation | GroupRelation


def co_member_pairs(rows: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of rows that share a group, one entry per (group, pair): for relations
    whose groups are small (Amazon's also-viewed lists), to be made a ``PairRelation``."""
    order = np.lexsort((rows, groups))
    rows, groups = rows[order], groups[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], len(groups)]
    left, right = [], []
    for start, end in zip(starts.tolist(), ends.tolist()):
        members = rows[start:end]
        i, j = np.triu_indices(len(members), k=1)
        left.append(members[i])
        right.append(members[j])
    if not left:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(left).astype(np.int64), np.concatenate(right).astype(np.int64)
