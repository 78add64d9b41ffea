"""Bring your own samples: ``--dataset csv --samples FILE.csv --schema SCHEMA.json``.

The CSV has a header row naming its columns; the schema, a small JSON object, says what each
column is::

    {"categorical": ["item_category", "device"], "numeric": ["price"],
     "labels": ["click", "buy"], "user_id": "user"}

``categorical`` values are any strings (kept as given, surrounding spaces stripped; an empty
value is a category of its own); ``numeric`` values are finite numbers; ``labels`` are 0 or 1
(the first label is the primary task); ``user_id`` (optional) is a categorical column that
names the sample's user: it turns on gAUC and DRGrad's personalized gate. A schema naming a
column the file lacks is refused with the file's column names. Malformed rows (wrong column
count, a non-numeric number, a label other than 0/1) stop the load with file:line and the
reason, or with ``skip_bad_rows`` are skipped and counted, as the interaction CSV does.
Split: seeded random 80/10/10 of the rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from trainer.data.bad_rows import BadRows
from trainer.data.sources import DatasetError
from trainer.data.text_rows import csv_rows
from trainer.ranking.samples import FeatureEncoder, FeatureSchema, RankingDataset

SCHEMA_KEYS = ("categorical", "numeric", "labels", "user_id")
SPLIT_SEED = 0
SPLIT = (0.8, 0.1)


class SchemaError(DatasetError):
    """The schema file is unreadable or names columns the samples file does not have."""


def read_schema(path: Path) -> dict:
    """The schema as a dict with every key present; SchemaError on anything else."""
    path = Path(path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SchemaError(f"{path}: cannot read the schema ({error})") from None
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: the schema must be a JSON object with {SCHEMA_KEYS}")
    unknown = sorted(set(schema) - set(SCHEMA_KEYS))
    if unknown:
        raise SchemaError(
            f"{path}: unknown schema keys {unknown}; valid keys: {', '.join(SCHEMA_KEYS)}"
        )
    result = {"user_id": schema.get("user_id")}
    for key in ("categorical", "numeric", "labels"):
        value = schema.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SchemaError(f"{path}: '{key}' must be a list of column names")
        result[key] = value
    if result["user_id"] is not None and not isinstance(result["user_id"], str):
        raise SchemaError(f"{path}: 'user_id' must be a column name")
    if not result["labels"]:
        raise SchemaError(f"{path}: 'labels' must name at least one label column")
    if not result["categorical"] and not result["numeric"] and not result["user_id"]:
        raise SchemaError(f"{path}: name at least one feature column")
    named = [*result["categorical"], *result["numeric"], *result["labels"]]
    if result["user_id"]:
        named.append(result["user_id"])
    repeated = sorted({n for n in named if named.count(n) > 1})
    if repeated:
        raise SchemaError(f"{path}: columns named twice in the schema: {repeated}")
    return result


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_samples_csv(
    samples: Path, schema_path: Path, skip_bad_rows: bool = False
) -> RankingDataset:
    """Read the samples file under its schema into train/validation/test splits."""
    schema = read_schema(schema_path)
    samples = Path(samples)
    bad = BadRows(samples, skip_bad_rows)
    rows = csv_rows(samples, bad)
    try:
        _, header = next(rows)
    except StopIteration:
        raise DatasetError(f"{samples}: the file is empty (expected a header row)") from None
    position = {name: i for i, name in enumerate(header)}
    categorical = list(schema["categorical"])
    if schema["user_id"]:
        categorical = [schema["user_id"], *categorical]
    wanted = [*categorical, *schema["numeric"], *schema["labels"]]
    missing = [name for name in wanted if name not in position]
    if missing:
        raise SchemaError(
            f"{schema_path}: columns {missing} are not in {samples}; "
            f"valid names: {', '.join(header)}"
        )
    columns: dict[str, list[str]] = {name: [] for name in categorical}
    numbers: dict[str, list[float]] = {name: [] for name in schema["numeric"]}
    labels: list[list[float]] = []
    for line, fields in rows:
        if len(fields) != len(header):
            bad.report(
                line, "wrong column count", f"{len(fields)} fields, header has {len(header)}"
            )
            continue
        values = [_number(fields[position[name]]) for name in schema["numeric"]]
        bad_number = next((n for n, v in zip(schema["numeric"], values) if v is None), None)
        if bad_number:
            text = fields[position[bad_number]][:40]
            bad.report(line, "bad number", f"column {bad_number} is {text!r}, not a finite number")
            continue
        row_labels = [fields[position[name]] for name in schema["labels"]]
        bad_label = next((n for n, v in zip(schema["labels"], row_labels) if v not in "01"), None)
        if bad_label or any(v == "" for v in row_labels):
            name = bad_label or schema["labels"][row_labels.index("")]
            text = fields[position[name]][:40]
            bad.report(line, "bad label", f"label {name} is {text!r}, not 0 or 1")
            continue
        for name in categorical:
            columns[name].append(fields[position[name]])
        for name, value in zip(schema["numeric"], values):
            numbers[name].append(value)
        labels.append([float(v) for v in row_labels])
    if len(labels) < 10:
        raise DatasetError(f"{samples}: {len(labels)} usable rows; a ranker needs at least 10")

    label_array = np.asarray(labels, dtype=np.float32)
    number_arrays = {name: np.asarray(v, dtype=np.float64) for name, v in numbers.items()}
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    cut_train = int(len(order) * SPLIT[0])
    cut_val = cut_train + int(len(order) * SPLIT[1])
    parts = {"train": order[:cut_train], "val": order[cut_train:cut_val], "test": order[cut_val:]}

    def select(rows_of: np.ndarray):
        return (
            {name: [values[i] for i in rows_of] for name, values in columns.items()},
            {name: values[rows_of] for name, values in number_arrays.items()},
            label_array[rows_of],
        )

    encoder = FeatureEncoder(categorical, list(schema["numeric"]))
    train_columns, train_numbers, _ = select(parts["train"])
    encoder.fit(train_columns, train_numbers)
    splits = {name: encoder.transform(*select(rows_of)) for name, rows_of in parts.items()}
    feature_schema = FeatureSchema(
        categorical=tuple(categorical),
        cardinalities=encoder.cardinalities(),
        numeric=tuple(schema["numeric"]),
        tasks=tuple(schema["labels"]),
        user_feature=schema["user_id"],
    )
    return RankingDataset(
        name="csv",
        schema=feature_schema,
        vocabularies=encoder.vocabularies,
        numeric_scaling=encoder.scaling,
        stats_extra=bad.counts("samples"),
        **splits,
    )
