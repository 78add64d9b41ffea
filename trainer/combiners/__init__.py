"""Gradient combiners, one small class each, bound to their declarations by name.

Every module of this package is imported here, so a new combiner is its file (decorated with
``@implements("combiner", name)``) and its declaration in ``shared/components.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import torch

from shared.registry import COMBINERS as DECLARED
from shared.registry import validate
from trainer.combiners.base import GradientCombiner
from trainer.registry import Implementations, implementation

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from trainer.combiners.equal_weight import EqualWeight  # noqa: E402
from trainer.combiners.main_only import MainTaskOnly  # noqa: E402
from trainer.combiners.pmtrec import PMTRec  # noqa: E402

COMBINERS: Implementations = Implementations("combiner")


def build_combiner(
    name: str,
    num_tasks: int = 3,
    generator: torch.Generator | None = None,
    **hyperparameters: Any,
) -> GradientCombiner:
    """Build a combiner by name from its declared hyper-parameters (defaults for those left
    out); ValueError for an unknown name, an unknown hyper-parameter or a bad value."""
    component = DECLARED.get(name)
    values = validate(
        hyperparameters, {p.name: p for p in component.params}, f"{name} hyper-parameter"
    )
    cls = implementation("combiner", name)
    init = getattr(cls.__init__, "__wrapped__", cls.__init__)
    context = {"num_tasks": num_tasks, "generator": generator}
    taken = inspect.signature(init).parameters
    return cls(**{k: v for k, v in context.items() if k in taken}, **values)


__all__ = [
    "COMBINERS",
    "EqualWeight",
    "GradientCombiner",
    "MainTaskOnly",
    "PMTRec",
    "build_combiner",
]
