"""The paper's experiments as commands: one artefact each, resumable, sharing their runs.

    python -m trainer.experiments table2 --dataset office [--seeds 0,1,2] [--budget 4]

Artefacts: ``table2`` (every method, equal tuning budget), ``tasks`` (Table 3), ``ablation``
(Figure 4), ``sensitivity`` (Figure 5), ``curves`` (Figure 6). Outputs go to
``<out>/<dataset>/``; see docs/experiments.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from trainer.experiments.ablation import ablation
from trainer.experiments.curves import curves
from trainer.experiments.experiment import TABLE2_METHODS, Experiment, Tuning
from trainer.experiments.reports import Artefact, write_artefact
from trainer.experiments.sensitivity import sensitivity
from trainer.experiments.sources import DatasetSource, InMemoryDataset, NamedDataset
from trainer.experiments.table2 import table2
from trainer.experiments.tasks import tasks

ARTEFACTS: dict[str, Callable[[Experiment], Artefact]] = {
    "table2": table2,
    "tasks": tasks,
    "ablation": ablation,
    "sensitivity": sensitivity,
    "curves": curves,
}


def run_artefact(name: str, experiment: Experiment) -> list[Path]:
    """Compute one artefact (running what is not recorded yet) and write its files."""
    try:
        build = ARTEFACTS[name]
    except KeyError:
        raise ValueError(
            f"unknown artefact '{name}'; valid names: {', '.join(ARTEFACTS)}"
        ) from None
    started = time.perf_counter()
    artefact = build(experiment)
    return write_artefact(experiment, artefact, time.perf_counter() - started)


__all__ = [
    "ARTEFACTS",
    "TABLE2_METHODS",
    "Artefact",
    "DatasetSource",
    "Experiment",
    "InMemoryDataset",
    "NamedDataset",
    "Tuning",
    "run_artefact",
]
