"""Training configuration, validated before any work starts.

``TrainConfig`` has one field per declared hyper-parameter (``shared/components.py``: the
loop's own, then every combiner's, encoder's and task's, plug-ins included), with the
declared default and checked against the declared rule, plus the fields a user does not set
as hyper-parameters: the method, the auxiliary tasks, the evaluation cut-offs and the
monitored metric. Plug-ins (``PMTREC_PLUGINS``) are declared before the class is built.
"""

from __future__ import annotations

from dataclasses import asdict, field, make_dataclass
from typing import Any

from shared.components import combination_problem, training_params
from shared.registry import COMBINERS, problems


class ConfigError(ValueError):
    """A hyper-parameter or option is out of range."""


_PARAMS = training_params()


def _check(self: Any) -> None:
    values = asdict(self)
    errors = []
    if self.method not in COMBINERS:
        errors.append(f"unknown method '{self.method}'; valid names: {', '.join(COMBINERS)}")
    errors += problems(values, _PARAMS.values())
    if not all(k > 0 for k in self.eval_ks):
        errors.append(f"every k must be > 0, got {self.eval_ks}")
    if not errors and (problem := combination_problem(values)):
        errors.append(problem)
    if errors:
        raise ConfigError("; ".join(errors))


def _recorded(values: Any) -> dict[str, Any]:
    """Every hyper-parameter of a configuration or of a stored record of one; fields added
    to TrainConfig since the record was written take their defaults, so resumable run logs
    keep matching when the configuration grows."""
    if isinstance(values, TrainConfig):
        return values.hyperparameters()
    return {**TrainConfig().hyperparameters(), **values}


def _hyperparameters(self: Any) -> dict[str, Any]:
    """Everything that shapes the model, for the bundle manifest."""
    values = asdict(self)
    values["auxiliary_tasks"] = list(self.auxiliary_tasks)
    values["eval_ks"] = list(self.eval_ks)
    return values


TrainConfig = make_dataclass(
    "TrainConfig",
    [
        ("method", str, "pmtrec"),
        *((param.name, param.type, param.default) for param in _PARAMS.values()),
        ("auxiliary_tasks", tuple[str, ...], field(default_factory=tuple)),
        ("eval_ks", tuple[int, ...], (5, 10, 20, 40)),
        ("monitor", str, "recall@20"),
    ],
    frozen=True,
    namespace={
        "__doc__": "One training run's settings: the method and every declared "
        "hyper-parameter (shared/components.py).",
        "__module__": __name__,
        "__post_init__": _check,
        "recorded": staticmethod(_recorded),
        "hyperparameters": _hyperparameters,
    },
)
