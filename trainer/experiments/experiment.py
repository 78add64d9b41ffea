"""One experiment session: the dataset, seeds, budget and workers every artefact shares, the
configurations it builds, and the tuning that picks each method's configuration."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trainer.combiners import COMBINERS
from trainer.experiments.grids import tuning_candidates
from trainer.experiments.runs import (
    Progress,
    Record,
    RunExecutor,
    RunStore,
    print_progress,
    run_key,
)
from trainer.experiments.sources import DatasetSource
from trainer.training import TrainConfig

# Table 2's rows, in the paper's order: single task, then the multi-task methods, PMTRec last.
TABLE2_METHODS: tuple[str, ...] = (
    "bpr",
    "ew",
    "graddrop",
    "pcgrad",
    "gradvac",
    "cagrad",
    "aligned_mtl",
    "nash_mtl",
    "rlw",
    "pmtrec",
)


@dataclass(frozen=True)
class Tuning:
    """A method's tuning runs (validation, one seed) and the configuration they chose."""

    method: str
    configs: list[TrainConfig]
    records: list[Record]
    best_index: int

    @property
    def config(self) -> TrainConfig:
        return self.configs[self.best_index]

    @property
    def best(self) -> Record:
        return self.records[self.best_index]


@dataclass
class Experiment:
    """Settings shared by the artefacts of one command, and the runs they share.

    ``overrides`` sets TrainConfig fields on every run (tests use a small batch size);
    ``max_epochs`` caps training for smoke runs. Runs are stored in
    ``out/<dataset>/runs.jsonl``.
    """

    source: DatasetSource
    out: Path = Path("reports")
    seeds: tuple[int, ...] = (0, 1, 2)
    budget: int = 4
    workers: int = 2
    max_epochs: int | None = None
    device: str = "cpu"
    methods: tuple[str, ...] = TABLE2_METHODS
    overrides: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    progress: Progress = print_progress

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("at least one seed is needed")
        unknown = [m for m in self.methods if m not in COMBINERS]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; valid names: {', '.join(COMBINERS)}")
        for method in self.methods:
            tuning_candidates(method, self.budget)  # raises for a budget the grid cannot fill
        self.directory = self.out / self.source.name
        self.store = RunStore(self.directory / "runs.jsonl")
        self.executor = RunExecutor(self.source, self.store, self.workers, self.progress)

    @property
    def tuning_seed(self) -> int:
        """Tuning runs use the first seed; its test numbers are one of the seeds' results."""
        return self.seeds[0]

    def config(self, method: str, encoder: str = "mf", **values: Any) -> TrainConfig:
        """A run's configuration: the experiment's settings, then ``values``."""
        fields: dict[str, Any] = {
            "method": method,
            "encoder": encoder,
            "device": self.device,
            "auxiliary_tasks": tuple(self.source.auxiliary_tasks),
            "seed": self.tuning_seed,
            **self.overrides,
        }
        if self.max_epochs is not None:
            fields["epochs"] = self.max_epochs
        fields.update(values)
        return TrainConfig(**fields)

    def protocol(self) -> str:
        """The training settings every run shares, in words, for the reports."""
        c = self.config("pmtrec")
        return (
            f"d = {c.dim}, Adam, batch {c.batch_size}, at most {c.epochs} epochs, early "
            f"stopping after {c.patience} epochs without validation {c.monitor} improvement "
            "(best epoch restored), full ranking over all items"
        )

    def tuning_configs(self, method: str) -> list[TrainConfig]:
        return [self.config(method, **values) for values in tuning_candidates(method, self.budget)]

    def tune(self, methods: tuple[str, ...] | list[str]) -> dict[str, Tuning]:
        """Run every method's budget of tuning runs (all in one batch, so workers stay busy)
        and pick each method's best validation Recall@20 (the earliest in grid order on ties).
        """
        configs = {method: self.tuning_configs(method) for method in methods}
        records = self.run([c for method in methods for c in configs[method]])
        tunings, offset = {}, 0
        for method in methods:
            mine = records[offset : offset + len(configs[method])]
            offset += len(mine)
            best = max(range(len(mine)), key=lambda i: (mine[i]["val"]["recall@20"], -i))
            tunings[method] = Tuning(method, configs[method], mine, best)
        return tunings

    def seeded(self, config: TrainConfig) -> list[TrainConfig]:
        """The configuration once per seed of the experiment."""
        return [replace(config, seed=seed) for seed in self.seeds]

    def run(self, configs: list[TrainConfig]) -> list[Record]:
        return self.executor.run(configs)

    def run_seeded(self, rows: dict[Hashable, TrainConfig]) -> dict[Hashable, list[Record]]:
        """Each row's configuration on every seed, all run in one batch; records per row."""
        configs = {row: self.seeded(config) for row, config in rows.items()}
        records = iter(self.run([c for seeded in configs.values() for c in seeded]))
        return {row: [next(records) for _ in seeded] for row, seeded in configs.items()}

    def recorded(self, configs: list[TrainConfig]) -> int:
        """How many of ``configs`` are already recorded (distinct runs)."""
        keys = {run_key(self.source.name, c) for c in configs}
        return sum(self.store.get(key) is not None for key in keys)

    def announce(self, artefact: str, total: int, detail: str, known: list[TrainConfig]) -> None:
        """Print the planned run count before starting (and set it for the ETA)."""
        self.executor.expect(total)
        self.progress(
            f"{artefact} on {self.source.name}: {total} runs planned ({detail}); "
            f"{self.recorded(known)} of the {len(set(known))} known now are already "
            f"recorded in {self.store.path}; "
            + (f"{self.workers} worker(s)" if self.workers else "in-process")
        )
