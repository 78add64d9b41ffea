"""Census-Income in the MMoE setup: features, labels, the 1:1 split, the checksums."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from trainer.data.sources import DatasetError
from trainer.ranking.data.census import (
    CATEGORICAL,
    FIELDS,
    NUMERIC,
    build_census,
    load_census,
)


def _row(i: int, married: str, income: str) -> list[str]:
    row = [f"v{i % 3}"] * len(FIELDS)
    for name in NUMERIC:
        row[FIELDS.index(name)] = str(i % 5)
    row[FIELDS.index("instance_weight")] = str(1000.0 + i)
    row[FIELDS.index("marital_status")] = married
    row[FIELDS.index("income")] = income
    return row


def test_features_exclude_the_labels_and_the_instance_weight():
    assert len(CATEGORICAL) + len(NUMERIC) == 39
    for name in ("instance_weight", "marital_status", "income"):
        assert name not in CATEGORICAL and name not in NUMERIC


def test_labels_and_the_seeded_one_to_one_split_of_the_test_file():
    train = [
        _row(i, "Never married" if i % 2 else "Divorced", "50000+." if i % 3 == 0 else "- 50000.")
        for i in range(30)
    ]
    test = [_row(i, "Never married", "- 50000.") for i in range(21)]
    test[4][FIELDS.index("class_of_worker")] = "a value unseen in training"
    first, second = build_census(train, test), build_census(train, test)
    assert first.schema.tasks == ("income", "never_married")
    assert len(first.val) == 10 and len(first.test) == 11
    np.testing.assert_array_equal(first.val.categorical, second.val.categorical)
    expected = np.array([[i % 3 == 0, i % 2 == 1] for i in range(30)], dtype=np.float32)
    np.testing.assert_array_equal(first.train.labels, expected)
    assert (first.test.labels[:, 1] == 1).all() or (first.val.labels[:, 1] == 1).all()
    unseen = CATEGORICAL.index("class_of_worker")
    held_out = np.concatenate([first.val.categorical[:, unseen], first.test.categorical[:, unseen]])
    assert (held_out == 0).sum() == 1  # the out-of-vocabulary row


def test_numeric_fields_as_categories_in_the_categorical_and_both_modes():
    train = [_row(i, "Divorced", "- 50000.") for i in range(30)]
    test = [_row(i, "Divorced", "- 50000.") for i in range(10)]
    test[0][FIELDS.index("age")] = "97"  # an age never seen in training
    embedded = build_census(train, test)
    both = build_census(train, test, numeric="both")
    only = build_census(train, test, numeric="categorical")
    assert embedded.schema.num_features == 39 and both.schema.num_features == 46
    assert only.schema.numeric == () and only.schema.num_features == 39
    assert both.schema.numeric == NUMERIC
    age = both.schema.categorical.index("age_value")
    # Five distinct ages in training (i % 5): five rows plus the out-of-vocabulary row.
    assert both.schema.cardinalities[age] == 6
    np.testing.assert_array_equal(both.train.numeric, embedded.train.numeric)
    vocabulary = both.vocabularies["age_value"]
    np.testing.assert_array_equal(
        both.train.categorical[:, age], [vocabulary[str(i % 5)] for i in range(30)]
    )
    held_out = np.concatenate([both.val.categorical[:, age], both.test.categorical[:, age]])
    assert (held_out == 0).sum() == 1
    with pytest.raises(ValueError, match="valid: embedded, categorical, both"):
        build_census(train, test, numeric="buckets")


def test_a_corrupt_file_is_refused_with_its_checksum(tmp_path, data_dir):
    folder = tmp_path / "census-income"
    folder.mkdir()
    for name in ("census-income.data.gz", "census-income.test.gz"):
        shutil.copy(data_dir / "census-income" / name, folder / name)
    with gzip.open(folder / "census-income.test.gz", "wb") as handle:
        handle.write(b"changed")
    with pytest.raises(DatasetError, match=r"census-income\.test\.gz is corrupt"):
        load_census(tmp_path, limit=10)


@pytest.mark.real_data
def test_real_census_smoke(data_dir):
    dataset = load_census(data_dir, limit=300)
    assert len(dataset.train) == 300 and len(dataset.val) == 150 and len(dataset.test) == 150
    assert dataset.train.labels[:, 0].sum() > 0  # some incomes above 50K in 300 rows
    assert 0.2 < dataset.train.labels[:, 1].mean() < 0.7
    assert np.isfinite(dataset.train.numeric).all()
