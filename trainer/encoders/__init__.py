"""Encoders behind one seam, bound to their declarations by name.

Every module of this package is imported here, so a new encoder is its file (decorated with
``@implements("encoder", name)``) and its declaration in ``shared/components.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

import torch

from shared.registry import ENCODERS as DECLARED
from trainer.data import RecDataset
from trainer.encoders.base import Encoder
from trainer.registry import Implementations, implementation

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from trainer.encoders.lightgcn import LightGCN  # noqa: E402
from trainer.encoders.mf import MatrixFactorization  # noqa: E402
from trainer.encoders.ngcf import NGCF  # noqa: E402

ENCODERS: Implementations = Implementations("encoder")


def build_encoder(
    name: str,
    dataset: RecDataset,
    dim: int,
    generator: torch.Generator,
    hyperparameters: Mapping[str, Any] | None = None,
) -> Encoder:
    """The encoder ``name`` for ``dataset``, with its declared hyper-parameters taken from
    ``hyperparameters`` (a configuration's values; defaults for those missing)."""
    component = DECLARED.get(name)
    values = {**component.defaults(), **(hyperparameters or {})}
    params = {p: values[p] for p in component.param_names()}
    return implementation("encoder", name).from_dataset(dataset, dim, generator, **params)


__all__ = ["ENCODERS", "NGCF", "Encoder", "LightGCN", "MatrixFactorization", "build_encoder"]
