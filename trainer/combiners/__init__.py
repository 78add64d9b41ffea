"""Gradient combiners, one small class each, registered by name."""

from __future__ import annotations

from typing import Any

from trainer.combiners.base import GradientCombiner
from trainer.combiners.equal_weight import EqualWeight
from trainer.combiners.main_only import MainTaskOnly
from trainer.combiners.pmtrec import PMTRec

COMBINERS: dict[str, type[GradientCombiner]] = {
    cls.name: cls for cls in (PMTRec, EqualWeight, MainTaskOnly)
}


def build_combiner(name: str, **hyperparameters: Any) -> GradientCombiner:
    """Build a combiner by name, passing only the hyper-parameters it takes."""
    try:
        cls = COMBINERS[name]
    except KeyError:
        raise ValueError(f"unknown method '{name}'; valid names: {', '.join(COMBINERS)}") from None
    if cls is PMTRec:
        return PMTRec(alpha=hyperparameters["alpha"], tau=hyperparameters["tau"])
    return cls()


__all__ = [
    "COMBINERS",
    "EqualWeight",
    "GradientCombiner",
    "MainTaskOnly",
    "PMTRec",
    "build_combiner",
]
