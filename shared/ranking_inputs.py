"""Raw samples -> the inputs of a ranking bundle's ``ranker.onnx`` (numpy only).

A ranking bundle's ``vocabularies.json`` holds ``inputs``: one entry per model input column,
in column order, ``{"name", "kind": "categorical" | "numeric", "field", "transform"}``:
``field`` is the raw sample's field the column reads (Census-Income's ``age_value`` reads
``age`` as a category, its ``age`` reads it as a number), ``transform`` what a number goes
through before standardising (``"log1p"``: log(1 + max(x, 0)); ``"none"``). Beside it,
``categorical`` (raw value -> row per categorical column; 0 for a value unseen in training)
and ``numeric`` ((mean, std) per numeric column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

TRANSFORMS = ("none", "log1p")


def _category(value: Any) -> str:
    # A number given for a categorical column means the file's text of it ("73", not "73.0").
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any, field: str, transform: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field {field!r}: {value!r} is not a number") from None
    if not np.isfinite(x):
        raise ValueError(f"field {field!r}: {value!r} is not a finite number")
    return float(np.log1p(max(x, 0.0))) if transform == "log1p" else x


def encode_samples(
    mapping: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]
) -> tuple[np.ndarray, np.ndarray]:
    """(categorical int64 [n, C], numeric float32 [n, N]) of raw samples (field -> value)
    under a bundle's ``vocabularies.json`` ``mapping``. A missing field or a non-numeric
    number raises ValueError naming the sample and the field."""
    inputs = mapping["inputs"]
    categorical_inputs = [i for i in inputs if i["kind"] == "categorical"]
    numeric_inputs = [i for i in inputs if i["kind"] == "numeric"]
    categorical = np.zeros((len(samples), len(categorical_inputs)), dtype=np.int64)
    numeric = np.zeros((len(samples), len(numeric_inputs)), dtype=np.float32)
    for n, sample in enumerate(samples):
        try:
            for c, spec in enumerate(categorical_inputs):
                vocabulary = mapping["categorical"][spec["name"]]
                categorical[n, c] = vocabulary.get(_category(sample[spec["field"]]), 0)
            for c, spec in enumerate(numeric_inputs):
                mean, std = mapping["numeric"][spec["name"]]
                x = _number(sample[spec["field"]], spec["field"], spec["transform"])
                numeric[n, c] = (x - mean) / std
        except KeyError as error:
            raise ValueError(f"sample {n}: missing field {error.args[0]!r}") from None
        except ValueError as error:
            raise ValueError(f"sample {n}: {error}") from None
    return categorical, numeric
