"""UCI Census-Income (KDD) in the multi-task setup of the MMoE paper (Ma et al., KDD 2018).

Tasks: ``income`` (income > 50K) and ``never_married`` (marital status "Never married").
Features: the other fields minus the instance weight (field 25, a sampling weight, not a
feature) and minus marital status itself (it is the second label; as a feature it would give
the label away). That leaves 39 features: 7 numeric (age, wage per hour, capital gains,
capital losses, dividends, persons worked for employer, weeks worked; the four money
columns through log1p, then all seven standardised on the training split) and 32
categorical (coded columns such as the industry and occupation recodes and the year are
categories too). Vocabularies come from the training file; a value first seen in the test
file maps to the out-of-vocabulary row.

Numeric fields (``numeric``): ``"embedded"`` (the default, above); ``"categorical"``: each
of the 7 numeric fields is a categorical feature instead (each distinct value of the
training file one category; age has 91 values, weeks worked 53), so the model learns a
free embedding per value rather than one direction scaled by the value; ``"both"``: the
categorical copies and the embedded numbers. The protocol rows of docs/results.md measure
which of these explains how much of the gap to the published numbers.

Splits: ``census-income.data`` is the training set (199,523 rows); ``census-income.test``
(99,762 rows) is shuffled with a fixed seed and cut 1:1 into validation and test, the
protocol of MMoE and DRGrad.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np

from trainer.data.sources import DataFile, DatasetError, ensure_files
from trainer.ranking.samples import FeatureEncoder, FeatureSchema, RankingDataset

log = logging.getLogger(__name__)

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/census-income-mld/census.tar.gz"
FILES = (
    DataFile(
        "census-income.data.gz",
        "3a8265c042a3a804761b804e3fbd2b44d26780fc11848cdc499a439b6ec209c2",
        _URL,
    ),
    DataFile(
        "census-income.test.gz",
        "9d476164fbf1fdb9c79af8e567da35102f9309dbc1111740a63c07a437b0f034",
        _URL,
    ),
)
# The 42 fields in file order (UCI census-income.names).
FIELDS = (
    "age", "class_of_worker", "industry_recode", "occupation_recode", "education",
    "wage_per_hour", "enrolled_in_edu_last_wk", "marital_status", "major_industry",
    "major_occupation", "race", "hispanic_origin", "sex", "labor_union", "unemployment_reason",
    "employment_status", "capital_gains", "capital_losses", "dividends", "tax_filer_status",
    "previous_region", "previous_state", "household_detail", "household_summary",
    "instance_weight", "migration_msa", "migration_region", "migration_within_region",
    "same_house_1_year_ago", "previous_residence_sunbelt", "persons_worked_for_employer",
    "family_members_under_18", "father_birth_country", "mother_birth_country",
    "birth_country", "citizenship", "own_business", "veterans_questionnaire",
    "veterans_benefits", "weeks_worked", "year", "income",
)  # fmt: skip
NUMERIC = (
    "age", "wage_per_hour", "capital_gains", "capital_losses", "dividends",
    "persons_worked_for_employer", "weeks_worked",
)  # fmt: skip
LOG_SCALED = ("wage_per_hour", "capital_gains", "capital_losses", "dividends")
NOT_FEATURES = ("instance_weight", "marital_status", "income")
CATEGORICAL = tuple(f for f in FIELDS if f not in NUMERIC and f not in NOT_FEATURES)
TASKS = ("income", "never_married")
NUMERIC_MODES = ("embedded", "categorical", "both")
SPLIT_SEED = 2018


def _read(path: Path, limit: int | None) -> list[list[str]]:
    rows = []
    with gzip.open(path, "rt", encoding="latin-1") as handle:
        for line_number, line in enumerate(handle, start=1):
            if limit is not None and len(rows) >= limit:
                break
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split(", ")
            if len(fields) != len(FIELDS):
                raise DatasetError(
                    f"{path}:{line_number}: {len(fields)} fields, expected {len(FIELDS)}"
                )
            rows.append(fields)
    return rows


def _columns(rows: list[list[str]]) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
    columns = {name: [row[i] for row in rows] for i, name in enumerate(FIELDS)}
    columns.update({f"{name}_value": columns[name] for name in NUMERIC})
    numbers = {}
    for name in NUMERIC:
        try:
            values = np.asarray(columns[name], dtype=np.float64)
        except ValueError as error:
            raise DatasetError(f"census-income: column {name} is not numeric ({error})") from None
        numbers[name] = np.log1p(np.maximum(values, 0)) if name in LOG_SCALED else values
    return columns, numbers


def _labels(columns: dict[str, list[str]]) -> np.ndarray:
    income = [value.strip() == "50000+." for value in columns["income"]]
    never = [value == "Never married" for value in columns["marital_status"]]
    return np.stack([np.asarray(income), np.asarray(never)], axis=1).astype(np.float32)


def _feature_lists(numeric: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(categorical, numeric) feature names for a ``numeric`` mode."""
    if numeric not in NUMERIC_MODES:
        raise ValueError(f"unknown numeric mode '{numeric}'; valid: {', '.join(NUMERIC_MODES)}")
    if numeric == "embedded":
        return CATEGORICAL, NUMERIC
    # The categorical copies are named apart so that "both" has distinct feature names.
    copies = tuple(f"{name}_value" for name in NUMERIC)
    return CATEGORICAL + copies, (NUMERIC if numeric == "both" else ())


def build_census(
    train_rows: list[list[str]], test_rows: list[list[str]], numeric: str = "embedded"
) -> RankingDataset:
    """The dataset from the two files' rows (lists of the 42 fields)."""
    categorical_names, numeric_names = _feature_lists(numeric)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(test_rows))
    half = len(order) // 2
    val_rows = [test_rows[i] for i in order[:half]]
    test_rows = [test_rows[i] for i in order[half:]]
    train_columns, train_numbers = _columns(train_rows)
    encoder = FeatureEncoder(list(categorical_names), list(numeric_names))
    encoder.fit(train_columns, train_numbers)
    splits = {}
    for name, rows in (("train", train_rows), ("val", val_rows), ("test", test_rows)):
        columns, numbers = (train_columns, train_numbers) if name == "train" else _columns(rows)
        splits[name] = encoder.transform(columns, numbers, _labels(columns))
    schema = FeatureSchema(
        categorical=categorical_names,
        cardinalities=encoder.cardinalities(),
        numeric=numeric_names,
        tasks=TASKS,
    )
    return RankingDataset(
        name="census",
        schema=schema,
        vocabularies=encoder.vocabularies,
        numeric_scaling=encoder.scaling,
        raw_fields={
            f"{name}_value": name for name in NUMERIC if f"{name}_value" in categorical_names
        },
        numeric_transforms={name: "log1p" for name in LOG_SCALED if name in numeric_names},
        **splits,
    )


def load_census(
    data_dir: Path,
    allow_download: bool = False,
    limit: int | None = None,
    numeric: str = "embedded",
) -> RankingDataset:
    """Census-Income with the MMoE setup; ``limit`` reads only the first rows of each file
    (for quick smoke runs; the published numbers use every row); ``numeric`` as in the
    module docstring."""
    paths = ensure_files("census-income", Path(data_dir) / "census-income", FILES, allow_download)
    dataset = build_census(
        _read(paths["census-income.data.gz"], limit),
        _read(paths["census-income.test.gz"], limit),
        numeric,
    )
    log.info("census-income: %s", dataset.stats())
    return dataset
