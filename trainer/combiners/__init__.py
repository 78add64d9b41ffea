"""Gradient combiners, one small class each, registered by name."""

from __future__ import annotations

import inspect
from typing import Any

from trainer.combiners.aligned_mtl import AlignedMTL
from trainer.combiners.base import GradientCombiner
from trainer.combiners.cagrad import CAGrad
from trainer.combiners.equal_weight import EqualWeight
from trainer.combiners.graddrop import GradDrop
from trainer.combiners.gradvac import GradVac
from trainer.combiners.main_only import MainTaskOnly
from trainer.combiners.nash_mtl import NashMTL
from trainer.combiners.pcgrad import PCGrad
from trainer.combiners.pmtrec import PMTRec
from trainer.combiners.rlw import RLW

COMBINERS: dict[str, type[GradientCombiner]] = {
    cls.name: cls
    for cls in (
        PMTRec,
        EqualWeight,
        MainTaskOnly,
        GradDrop,
        PCGrad,
        GradVac,
        CAGrad,
        AlignedMTL,
        NashMTL,
        RLW,
    )
}


def build_combiner(name: str, **hyperparameters: Any) -> GradientCombiner:
    """Build a combiner by name, passing only the hyper-parameters its constructor takes."""
    try:
        cls = COMBINERS[name]
    except KeyError:
        raise ValueError(f"unknown method '{name}'; valid names: {', '.join(COMBINERS)}") from None
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in hyperparameters.items() if k in accepted and k != "self"})


__all__ = ["COMBINERS", "GradientCombiner", "build_combiner"]
