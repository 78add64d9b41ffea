"""The in-memory form of a dataset that every encoder, task and evaluator reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trainer.data.relations import Relation


@dataclass(frozen=True)
class Interactions:
    """(user row, item row, rating) triples as parallel int64/float32 arrays."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def select(self, mask: np.ndarray) -> Interactions:
        return Interactions(self.users[mask], self.items[mask], self.ratings[mask])


def csr_from_pairs(
    rows: np.ndarray, cols: np.ndarray, num_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of unique (row, col) pairs, columns sorted within each row."""
    width = int(cols.max(initial=0)) + 1
    keys = np.unique(rows.astype(np.int64) * width + cols)
    unique_rows, unique_cols = keys // width, keys % width
    indptr = np.zeros(num_rows + 1, dtype=np.int64)
    np.add.at(indptr, unique_rows + 1, 1)
    return np.cumsum(indptr), unique_cols.astype(np.int64)


@dataclass(frozen=True)
class RecDataset:
    """A dataset ready for training: id maps, splits and auxiliary relations.

    Every split holds all its interactions, low ratings too (the rating task learns from
    them); ``positives(split)`` keeps the ratings above ``positive_threshold``, which are the
    positives for ranking: BPR samples them, evaluation holds them out and masks them.
    """

    name: str
    user_ids: list[str]
    item_ids: list[str]
    train: Interactions
    val: Interactions
    test: Interactions
    positive_threshold: float
    # Auxiliary relations by name: int64 arrays of shape [n, 2] (row pairs).
    relations: dict[str, np.ndarray] = field(default_factory=dict)
    # Typed auxiliary relations by name (which table, pairs or shared groups, rows dropped):
    # what the link-prediction tasks learn from (see relations.py).
    links: dict[str, Relation] = field(default_factory=dict)
    # Counts measured on the source files before merging and filtering ("source:rows", ...).
    source_stats: dict[str, int] = field(default_factory=dict)
    # Multi-behavior data (tmall, beibei, a CSV with a behavior column): the splits hold the
    # target behavior (buy), and ``behaviors`` the training (user, item) pairs of every other
    # behavior by name (cart, ...), rating 1, unique, sorted. Each is an auxiliary task
    # (trainer/tasks/behavior.py).
    behaviors: dict[str, Interactions] = field(default_factory=dict)
    target_behavior: str | None = None

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def positives(self, split: str) -> Interactions:
        """The positives of ``split`` ("train", "val" or "test")."""
        interactions: Interactions = getattr(self, split)
        return interactions.select(interactions.ratings > self.positive_threshold)

    @property
    def train_positive(self) -> Interactions:
        return self.positives("train")

    def positive_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Each user's training positives (excluded from ranking during evaluation)."""
        positives = self.train_positive
        return csr_from_pairs(positives.users, positives.items, self.num_users)

    def seen_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Each user's training interactions of any rating (excluded when serving)."""
        return csr_from_pairs(self.train.users, self.train.items, self.num_users)

    def excluded_csr(self, exclude: str = "positives") -> tuple[np.ndarray, np.ndarray]:
        """What evaluation leaves out of each user's ranked list (the ``eval_exclude``
        setting): "positives", the training positives (the paper's protocol), or "seen",
        every training interaction whatever its rating (what the service leaves out)."""
        if exclude == "positives":
            return self.positive_csr()
        if exclude == "seen":
            return self.seen_csr()
        raise ValueError(f"eval_exclude must be positives or seen, got '{exclude}'")

    def stats(self) -> dict[str, float]:
        pairs = np.unique(
            np.concatenate(
                [
                    np.stack([split.users, split.items], axis=1)
                    for split in (self.train, self.val, self.test)
                ]
            ),
            axis=0,
        )
        return {
            "users": self.num_users,
            "items": self.num_items,
            "interactions": len(pairs),
            "density": len(pairs) / (self.num_users * self.num_items),
            "train": len(self.train),
            "train_positive": len(self.train_positive),
            "val": len(self.val),
            "val_positive": len(self.positives("val")),
            "test": len(self.test),
            **{f"relation:{name}": len(pairs) for name, pairs in self.relations.items()},
            "test_positive": len(self.positives("test")),
            **{
                key: value
                for name, link in self.links.items()
                for key, value in link.stats(name).items()
            },
            **{
                key: value
                for name, pairs in self.behaviors.items()
                for key, value in (
                    (f"behavior:{name}:pairs", len(pairs)),
                    (f"behavior:{name}:users", len(np.unique(pairs.users))),
                    (f"behavior:{name}:items", len(np.unique(pairs.items))),
                )
            },
            **self.source_stats,
        }
