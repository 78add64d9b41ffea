"""What a retrain may ask for, checked without torch (the API validates before queuing).

Plain mirrors of the trainer's registries and of ``trainer.training.config.TrainConfig``'s
checks, so that ``POST /retrain`` answers 422 for a bad request instead of queuing a job that
would fail. ``tests/jobs/test_hyperparameters.py`` imports both sides and checks they agree;
change them together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# trainer.data.DATASETS, trainer.combiners.COMBINERS and trainer.encoders.ENCODERS.
DATASETS = ("office", "epinions", "amazon-hin", "videogame", "csv", "tmall", "beibei")
METHODS = (
    "pmtrec",
    "ew",
    "bpr",
    "graddrop",
    "pcgrad",
    "gradvac",
    "cagrad",
    "aligned_mtl",
    "nash_mtl",
    "rlw",
)
ENCODERS = ("mf", "lightgcn", "ngcf")
# The star scale of each dataset's ratings (all are Amazon or Epinions reviews, 1 to 5 stars):
# POST /feedback refuses ratings outside the scale of the dataset the active model serves.
# "csv" has no fixed scale (the settings' feedback_min_rating/max_rating apply).
DATASET_RATING_SCALES: dict[str, tuple[float, float]] = {
    "office": (1.0, 5.0),
    "epinions": (1.0, 5.0),
    "amazon-hin": (1.0, 5.0),
    "videogame": (1.0, 5.0),
}
# TrainConfig fields a retrain does not set through "hyperparameters": the method has its own
# field, the auxiliary tasks follow from the dataset, and evaluation cut-offs and the
# monitored metric are fixed so that stored evaluations and the activation guard compare.
NOT_REQUESTABLE = ("method", "auxiliary_tasks", "eval_ks", "monitor")


# Upper bounds, shared with TrainConfig: far above any useful value, low enough that a typo
# (dim=10**12, epochs=1e300) is refused before a worker tries to allocate or run it. Seeds are
# 32-bit unsigned, which every random generator of the trainer (torch, numpy) accepts.
MAX_DIM = 4096
MAX_LAYERS = 16
MAX_BATCH_SIZE = 1 << 20
MAX_EPOCHS = 10_000
MAX_VAL_USERS = 10_000_000
MAX_SEED = 2**32 - 1
MAX_CORE = 1000


class HyperparameterError(ValueError):
    """A requested hyper-parameter or load option is unknown or out of range."""


@dataclass(frozen=True)
class Parameter:
    """One requestable value: its JSON type and the rule it must satisfy."""

    kind: type  # int, float, str or bool
    rule: str  # the rule in words, for messages
    check: Callable[[Any], bool] = lambda _value: True


def _is_device(value: str) -> bool:
    # Stricter than TrainConfig (which takes any "cuda:..."): only names torch accepts.
    return re.fullmatch(r"auto|cpu|cuda(:\d+)?", value) is not None


# A behavior's name (a CSV's behavior column): it names a task and a ranker objective.
BEHAVIOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _is_path(value: str) -> bool:
    return bool(value.strip()) and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


# Every TrainConfig field except NOT_REQUESTABLE, with TrainConfig's own checks.
TRAIN_HYPERPARAMETERS: dict[str, Parameter] = {
    "encoder": Parameter(str, f"one of {', '.join(ENCODERS)}", lambda v: v in ENCODERS),
    "dim": Parameter(int, f"in [1, {MAX_DIM}]", lambda v: 0 < v <= MAX_DIM),
    "lr": Parameter(float, "> 0", lambda v: v > 0),
    "weight_decay": Parameter(float, ">= 0", lambda v: v >= 0),
    "alpha": Parameter(float, ">= 1", lambda v: v >= 1),
    "tau": Parameter(float, "> 0", lambda v: v > 0),
    "au_gamma": Parameter(float, ">= 0", lambda v: v >= 0),
    "link_ratio": Parameter(float, "in (0, 1]", lambda v: 0 < v <= 1),
    "cagrad_c": Parameter(float, ">= 0", lambda v: v >= 0),
    "gradvac_beta": Parameter(float, "in [0, 1]", lambda v: 0 <= v <= 1),
    "layers": Parameter(int, f"in [1, {MAX_LAYERS}]", lambda v: 1 <= v <= MAX_LAYERS),
    "init": Parameter(str, "xavier or als", lambda v: v in ("xavier", "als")),
    "batch_size": Parameter(int, f"in [1, {MAX_BATCH_SIZE}]", lambda v: 0 < v <= MAX_BATCH_SIZE),
    "epochs": Parameter(int, f"in [1, {MAX_EPOCHS}]", lambda v: 0 < v <= MAX_EPOCHS),
    "patience": Parameter(int, f"in [1, {MAX_EPOCHS}]", lambda v: 0 < v <= MAX_EPOCHS),
    "val_users": Parameter(
        int,
        f"in [0, {MAX_VAL_USERS}] (0: every validation user)",
        lambda v: 0 <= v <= MAX_VAL_USERS,
    ),
    "seed": Parameter(int, f"in [0, {MAX_SEED}]", lambda v: 0 <= v <= MAX_SEED),
    "device": Parameter(str, "auto, cpu, cuda or cuda:N", _is_device),
    "optimizer": Parameter(
        str, "adam or row_sparse_adam", lambda v: v in ("adam", "row_sparse_adam")
    ),
}

# trainer.data.LoadOptions fields (paths are paths on the worker) and which dataset takes
# which (trainer.data.DATASET_OPTIONS).
LOAD_OPTIONS: dict[str, Parameter] = {
    "core": Parameter(int, f"in [0, {MAX_CORE}]", lambda v: 0 <= v <= MAX_CORE),
    "interactions": Parameter(str, "a file path on the worker", _is_path),
    "item_pairs": Parameter(str, "a file path on the worker", _is_path),
    "user_pairs": Parameter(str, "a file path on the worker", _is_path),
    "skip_bad_rows": Parameter(bool, "true or false"),
    "target_behavior": Parameter(
        str,
        "a behavior name: 1..64 letters, digits, '_', '.' or '-'",
        lambda v: BEHAVIOR_NAME.fullmatch(v) is not None,
    ),
}
DATASET_LOAD_OPTIONS: dict[str, frozenset[str]] = {
    "epinions": frozenset({"core"}),
    "amazon-hin": frozenset({"core"}),
    "videogame": frozenset({"core", "skip_bad_rows"}),
    "csv": frozenset(
        {"core", "interactions", "item_pairs", "user_pairs", "skip_bad_rows", "target_behavior"}
    ),
}


def _coerce(name: str, value: Any, parameter: Parameter) -> tuple[Any, str | None]:
    """The value as ``parameter.kind`` (JSON 2 for a float, 2.0 for an int), or why not."""
    kind = parameter.kind
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        ok = False
    elif kind is int:
        ok = isinstance(value, int) or (math.isfinite(value) and float(value).is_integer())
        value = int(value) if ok else value
    else:
        ok = math.isfinite(value)
        value = float(value)
    if not ok:
        return value, f"{name} must be {'a number' if kind is float else _KIND_NAMES[kind]}"
    if not parameter.check(value):
        return value, f"{name} must be {parameter.rule}, got {value!r}"
    return value, None


_KIND_NAMES = {int: "an integer", str: "a string", bool: "true or false", float: "a number"}


def _validate(values: dict[str, Any], allowed: dict[str, Parameter], what: str) -> dict[str, Any]:
    problems, clean = [], {}
    for name, value in values.items():
        parameter = allowed.get(name)
        if parameter is None:
            problems.append(f"unknown {what} '{name}'; valid names: {', '.join(allowed)}")
            continue
        clean[name], problem = _coerce(name, value, parameter)
        if problem:
            problems.append(problem)
    if problems:
        raise HyperparameterError("; ".join(problems))
    return clean


def validate_hyperparameters(values: dict[str, Any]) -> dict[str, Any]:
    """The requested TrainConfig overrides, typed; ``HyperparameterError`` lists every problem."""
    clean = _validate(values, TRAIN_HYPERPARAMETERS, "hyper-parameter")
    # TrainConfig's one rule across fields, answered here rather than by a failed job.
    if clean.get("optimizer") == "row_sparse_adam" and clean.get("encoder", "mf") != "mf":
        raise HyperparameterError(
            "optimizer row_sparse_adam needs encoder mf: graph encoders touch every row each step"
        )
    return clean


def validate_load_options(dataset: str, values: dict[str, Any]) -> dict[str, Any]:
    """The requested dataset load options, typed and accepted by ``dataset``."""
    clean = _validate(values, LOAD_OPTIONS, "load option")
    accepted = DATASET_LOAD_OPTIONS.get(dataset, frozenset())
    refused = sorted(name for name in clean if name not in accepted)
    if refused:
        raise HyperparameterError(f"dataset '{dataset}' does not take {', '.join(refused)}")
    if dataset == "csv" and "interactions" not in clean:
        raise HyperparameterError("dataset 'csv' needs load_options.interactions (a CSV file)")
    return clean


# The ranking stage a retrain may add (``"ranker": "mmoe"``, trainer.twostage.RankerStage):
# the names of trainer.ranking.models.RANKERS, and the RankerStage fields a retrain may set
# through "ranker_hyperparameters" (the seed is the retrieval's).
RANKERS = ("shared_bottom", "mmoe", "ple", "stem", "split_mmoe", "drgrad")
MAX_NEGATIVE_RATIO = 100
RANKER_HYPERPARAMETERS: dict[str, Parameter] = {
    "negative_ratio": Parameter(
        int, f"in [1, {MAX_NEGATIVE_RATIO}]", lambda v: 1 <= v <= MAX_NEGATIVE_RATIO
    ),
    "lr": Parameter(float, "> 0", lambda v: v > 0),
    "batch_size": Parameter(int, f"in [1, {MAX_BATCH_SIZE}]", lambda v: 0 < v <= MAX_BATCH_SIZE),
    "epochs": Parameter(int, f"in [1, {MAX_EPOCHS}]", lambda v: 0 < v <= MAX_EPOCHS),
    "patience": Parameter(int, f"in [1, {MAX_EPOCHS}]", lambda v: 0 < v <= MAX_EPOCHS),
}


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
