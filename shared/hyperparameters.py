"""What a retrain may ask for, checked without torch (the API validates before queuing).

Derived from the component declarations (``shared/components.py``, plug-ins included), the
same ones the trainer's configuration checks itself with, so that ``POST /retrain`` answers
422 for a bad request instead of queuing a job that would fail.
"""

from __future__ import annotations

from typing import Any

from shared.components import (
    BEHAVIOR_NAME,
    MAX_BATCH_SIZE,
    MAX_CORE,
    MAX_DIM,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_NEGATIVE_RATIO,
    MAX_SEED,
    MAX_VAL_USERS,
    RANKER_STAGE,
    combination_problem,
    load_option_params,
    training_params,
)
from shared.registry import COMBINERS, DATASETS, ENCODERS, RANKERS, HyperparameterError, Param
from shared.registry import validate as _validate

# TrainConfig fields a retrain does not set through "hyperparameters": the method has its own
# field, the auxiliary tasks follow from the dataset, and evaluation cut-offs and the
# monitored metric are fixed so that stored evaluations and the activation guard compare.
NOT_REQUESTABLE = ("method", "auxiliary_tasks", "eval_ks", "monitor")


def train_hyperparameters() -> dict[str, Param]:
    """The TrainConfig fields a retrain may set, by name."""
    return training_params()


def dataset_rating_scale(dataset: str) -> tuple[float, float] | None:
    """The star scale of a dataset's ratings, or None where it has none (csv)."""
    if dataset not in DATASETS:
        return None
    return DATASETS.get(dataset).extra.get("rating_scale")


def validate_hyperparameters(values: dict[str, Any]) -> dict[str, Any]:
    """The requested TrainConfig overrides, typed; ``HyperparameterError`` lists every problem."""
    clean = _validate(values, training_params(), "hyper-parameter")
    problem = combination_problem(clean)
    if problem:
        raise HyperparameterError(problem)
    return clean


def validate_load_options(dataset: str, values: dict[str, Any]) -> dict[str, Any]:
    """The requested dataset load options, typed and accepted by ``dataset``."""
    clean = _validate(values, load_option_params(), "load option")
    component = DATASETS.get(dataset)
    refused = sorted(name for name in clean if name not in component.param_names())
    if refused:
        raise HyperparameterError(f"dataset '{dataset}' does not take {', '.join(refused)}")
    for name in component.extra.get("required", ()):
        if name not in clean:
            raise HyperparameterError(f"dataset '{dataset}' needs load_options.{name}")
    return clean


# The ranking stage a retrain may add (``"ranker": "mmoe"``, trainer.twostage.RankerStage),
# and the settings it may set through "ranker_hyperparameters" (the seed is the retrieval's).
RANKER_HYPERPARAMETERS: dict[str, Param] = {p.name: p for p in RANKER_STAGE}


def validate_ranker(name: str | None, values: dict[str, Any]) -> dict[str, Any]:
    """The requested ranking stage's settings, typed: ``HyperparameterError`` for an unknown
    ranker, settings without a ranker, or an unknown or out-of-range setting."""
    if name is None:
        if values:
            raise HyperparameterError("ranker_hyperparameters need a ranker")
        return {}
    if name not in RANKERS:
        raise HyperparameterError(f"unknown ranker '{name}'; valid names: {', '.join(RANKERS)}")
    return _validate(values, RANKER_HYPERPARAMETERS, "ranker hyper-parameter")


__all__ = [
    "BEHAVIOR_NAME",
    "COMBINERS",
    "DATASETS",
    "ENCODERS",
    "MAX_BATCH_SIZE",
    "MAX_CORE",
    "MAX_DIM",
    "MAX_EPOCHS",
    "MAX_LAYERS",
    "MAX_NEGATIVE_RATIO",
    "MAX_SEED",
    "MAX_VAL_USERS",
    "NOT_REQUESTABLE",
    "RANKERS",
    "RANKER_HYPERPARAMETERS",
    "HyperparameterError",
    "dataset_rating_scale",
    "train_hyperparameters",
    "validate_hyperparameters",
    "validate_load_options",
    "validate_ranker",
]
