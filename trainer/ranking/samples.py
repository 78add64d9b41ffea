"""Ranking samples: categorical and numeric features of a sample and its T binary labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FeatureSchema:
    """What a ranker reads: categorical features with their vocabulary sizes (row 0 of every
    vocabulary is the out-of-vocabulary value), numeric features, task names, and which
    categorical feature (if any) is the personal id (user id) of the sample."""

    categorical: tuple[str, ...]
    cardinalities: tuple[int, ...]
    numeric: tuple[str, ...]
    tasks: tuple[str, ...]
    user_feature: str | None = None

    def __post_init__(self) -> None:
        if len(self.categorical) != len(self.cardinalities):
            raise ValueError("one cardinality per categorical feature")
        if not self.tasks:
            raise ValueError("a ranker needs at least one task")
        if not self.categorical and not self.numeric:
            raise ValueError("a ranker needs at least one feature")
        if self.user_feature is not None and self.user_feature not in self.categorical:
            raise ValueError(f"user feature '{self.user_feature}' is not a categorical feature")

    @property
    def num_features(self) -> int:
        return len(self.categorical) + len(self.numeric)

    @property
    def user_index(self) -> int | None:
        """Column of the user id in the categorical matrix."""
        return None if self.user_feature is None else self.categorical.index(self.user_feature)

    def to_manifest(self) -> dict:
        return {
            "categorical": list(self.categorical),
            "cardinalities": list(self.cardinalities),
            "numeric": list(self.numeric),
            "tasks": list(self.tasks),
            "user_feature": self.user_feature,
        }


@dataclass(frozen=True)
class Samples:
    """One split: int64 ``categorical`` [n, C], float32 ``numeric`` [n, N], float32
    ``labels`` [n, T] in {0, 1}."""

    categorical: np.ndarray
    numeric: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.labels)
        if len(self.categorical) != n or len(self.numeric) != n:
            raise ValueError("categorical, numeric and labels must have one row per sample")

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, rows: np.ndarray) -> Samples:
        return Samples(self.categorical[rows], self.numeric[rows], self.labels[rows])


@dataclass(frozen=True)
class RankingDataset:
    """Train, validation and test samples under one schema, with the categorical features'
    vocabularies (``vocabularies[feature][value] = row``) and the numeric features' (mean,
    std), which the ranking bundle carries so raw samples can be scored the same way;
    ``raw_fields`` names the raw field a feature reads where it is not the feature's own name
    (Census's ``age_value`` reads ``age``), ``numeric_transforms`` what a numeric feature's
    raw value goes through before standardising (``"log1p"``; absent: none)."""

    name: str
    schema: FeatureSchema
    train: Samples
    val: Samples
    test: Samples
    vocabularies: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    numeric_scaling: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    raw_fields: dict[str, str] = field(default_factory=dict, repr=False)
    numeric_transforms: dict[str, str] = field(default_factory=dict, repr=False)
    stats_extra: dict[str, int] = field(default_factory=dict)

    def raw_inputs(self) -> list[dict[str, str]]:
        """The model's input columns in order, each with the raw field it reads and the
        transform of a numeric one (the ranking bundle's raw-sample mapping)."""
        columns = [("categorical", name) for name in self.schema.categorical]
        columns += [("numeric", name) for name in self.schema.numeric]
        return [
            {
                "name": name,
                "kind": kind,
                "field": self.raw_fields.get(name, name),
                "transform": self.numeric_transforms.get(name, "none"),
            }
            for kind, name in columns
        ]

    def split(self, name: str) -> Samples:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split '{name}'")
        return getattr(self, name)

    def stats(self) -> dict[str, int | float]:
        stats: dict[str, int | float] = {
            "train": len(self.train),
            "val": len(self.val),
            "test": len(self.test),
            "categorical": len(self.schema.categorical),
            "numeric": len(self.schema.numeric),
        }
        for t, task in enumerate(self.schema.tasks):
            stats[f"train_positive_rate:{task}"] = round(
                float(np.nanmean(self.train.labels[:, t])), 4
            )
        return {**stats, **self.stats_extra}


class FeatureEncoder:
    """Turns raw string categories and numbers into model inputs, with the vocabulary and the
    numeric scaling learned on the training split only (validation and test values unseen in
    training map to row 0, the out-of-vocabulary row)."""

    def __init__(self, categorical: list[str], numeric: list[str]):
        self.categorical = categorical
        self.numeric = numeric
        self.vocabularies: dict[str, dict[str, int]] = {}
        self.scaling: dict[str, tuple[float, float]] = {}

    def fit(self, columns: dict[str, list[str]], numbers: dict[str, np.ndarray]) -> FeatureEncoder:
        for name in self.categorical:
            values = sorted(set(columns[name]))
            self.vocabularies[name] = {value: row + 1 for row, value in enumerate(values)}
        for name in self.numeric:
            x = numbers[name]
            std = float(x.std())
            self.scaling[name] = (float(x.mean()), std if std > 0 else 1.0)
        return self

    def transform(
        self, columns: dict[str, list[str]], numbers: dict[str, np.ndarray], labels: np.ndarray
    ) -> Samples:
        n = len(labels)
        categorical = np.zeros((n, len(self.categorical)), dtype=np.int64)
        for c, name in enumerate(self.categorical):
            vocabulary = self.vocabularies[name]
            categorical[:, c] = [vocabulary.get(v, 0) for v in columns[name]]
        numeric = np.zeros((n, len(self.numeric)), dtype=np.float32)
        for c, name in enumerate(self.numeric):
            mean, std = self.scaling[name]
            numeric[:, c] = (numbers[name] - mean) / std
        return Samples(categorical, numeric, labels.astype(np.float32))

    def cardinalities(self) -> tuple[int, ...]:
        return tuple(len(self.vocabularies[name]) + 1 for name in self.categorical)
