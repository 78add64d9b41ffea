"""The ranker's training loop: Adam on mini-batches, validation AUC/log-loss per task after
every epoch, early stopping on the validation mean AUC, the best epoch's weights restored
and the test split scored once with them."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from trainer.combiners import COMBINERS, GradientCombiner, build_combiner
from trainer.ranking.combined import combined_backward
from trainer.ranking.metrics import task_metrics
from trainer.ranking.models import Ranker, RankerConfig, build_ranker
from trainer.ranking.samples import RankingDataset, Samples
from trainer.training.early_stopping import best_epoch, should_stop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankTrainConfig:
    """How a ranker is trained. ``combiner`` (a trainer.combiners name, e.g. "pmtrec") trains
    the shared parameters through that gradient combiner; None is the plain summed loss.
    ``monitor`` is what early stopping watches: the validation ``mean_auc`` over the tasks,
    or ``first_auc``, the first (primary) task's AUC."""

    model: str = "mmoe"
    lr: float = 1e-3
    batch_size: int = 1024
    epochs: int = 20
    patience: int = 2
    weight_decay: float = 0.0
    seed: int = 0
    combiner: str | None = None
    combiner_options: dict[str, float] = field(default_factory=dict)
    ranker: RankerConfig = field(default_factory=RankerConfig)
    monitor: str = "mean_auc"

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.batch_size <= 0 or self.epochs <= 0 or self.patience <= 0:
            raise ValueError("lr, batch_size, epochs and patience must be positive")
        if self.weight_decay < 0:
            raise ValueError("weight_decay must be >= 0")
        if self.monitor not in ("mean_auc", "first_auc"):
            raise ValueError(f"unknown monitor '{self.monitor}'; valid: mean_auc, first_auc")
        if self.combiner is not None and self.combiner not in COMBINERS:
            raise ValueError(
                f"unknown combiner '{self.combiner}'; valid names: {', '.join(COMBINERS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["ranker"] = self.ranker.to_dict()
        if self.monitor == "mean_auc":  # the default: absent, so earlier run keys still match
            del values["monitor"]
        return values


@dataclass
class RankResult:
    model: Ranker
    config: RankTrainConfig
    best_epoch: int
    val_metrics: dict[str, float]
    test_metrics: dict[str, float]
    history: list[dict[str, float]]
    seconds_per_epoch: float


def _tensors(samples: Samples) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(samples.categorical),
        torch.from_numpy(samples.numeric),
        torch.from_numpy(samples.labels),
    )


def evaluate(model: Ranker, dataset: RankingDataset, split: str) -> dict[str, float]:
    samples = dataset.split(split)
    categorical, numeric, _ = _tensors(samples)
    probabilities = model.predict(categorical, numeric).numpy()
    user = dataset.schema.user_index
    users = samples.categorical[:, user] if user is not None else None
    return task_metrics(dataset.schema.tasks, samples.labels, probabilities, users)


class RankTrainer:
    """Trains one ranker on one dataset."""

    def __init__(self, dataset: RankingDataset, config: RankTrainConfig, progress: bool = True):
        self.dataset = dataset
        self.config = config
        self.progress = progress
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.model = build_ranker(config.model, dataset.schema, config.ranker)
        self.combiner: GradientCombiner | None = None
        if config.combiner is not None:
            if not self.model.accepts_combiner:
                raise ValueError(f"model '{config.model}' routes its own gradients; no combiner")
            self.combiner = build_combiner(
                config.combiner,
                num_tasks=self.model.num_tasks,
                generator=self.generator,
                **config.combiner_options,
            )
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.train_tensors = _tensors(dataset.train)

    @property
    def global_batch_size(self) -> int:
        """Samples per optimiser step (every rank's together when data-parallel)."""
        return self.config.batch_size

    def step(
        self, categorical: torch.Tensor, numeric: torch.Tensor, labels: torch.Tensor, epoch: int
    ) -> list[float]:
        """One optimiser step on one batch; the tasks' losses."""
        self.optimizer.zero_grad(set_to_none=True)
        if self.combiner is None:
            losses = self.model.backward(categorical, numeric, labels, epoch)
        else:
            losses = combined_backward(
                self.model, self.combiner, categorical, numeric, labels, epoch
            )
        self.optimizer.step()
        return losses

    def evaluate(self, split: str) -> dict[str, float]:
        return evaluate(self.model, self.dataset, split)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        categorical, numeric, labels = self.train_tensors
        order = torch.randperm(len(labels), generator=self.generator)
        sums = np.zeros(self.model.num_tasks)
        batches = order.split(self.global_batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=not self.progress)
        self.model.train()
        for index in bar:
            sums += self.step(categorical[index], numeric[index], labels[index], epoch)
        means = sums / max(len(batches), 1)
        return {f"{task}:train_loss": float(v) for task, v in zip(self.dataset.schema.tasks, means)}

    def _warn_constant_tasks(self, val: dict[str, float], epoch: int, warned: set[str]) -> None:
        """Say so, once per task, when a task scores every validation sample the same (AUC
        exactly 0.5): its tower is most likely dead, every ReLU unit inactive, and it learns
        nothing until the tower input moves (seen on Census with the PMTRec combiner)."""
        for task in self.dataset.schema.tasks:
            if task not in warned and val.get(f"{task}:auc") == 0.5:
                warned.add(task)
                log.warning(
                    "epoch %d: task %s gives every validation sample the same score (AUC 0.5);"
                    " its tower is likely dead (every ReLU unit inactive). Training goes on;"
                    " another --seed or a lower --lr usually avoids it",
                    epoch,
                    task,
                )

    def fit(self) -> RankResult:
        history: list[dict[str, float]] = []
        monitored: list[float] = []
        best_state = copy.deepcopy(self.model.state_dict())
        train_seconds = 0.0
        watched = "mean_auc"
        if self.config.monitor == "first_auc":
            watched = f"{self.dataset.schema.tasks[0]}:auc"
        constant: set[str] = set()
        for epoch in range(1, self.config.epochs + 1):
            start = time.perf_counter()
            record = self.train_epoch(epoch)
            train_seconds += time.perf_counter() - start
            val = self.evaluate("val")
            record.update({f"val:{k}": v for k, v in val.items()}, epoch=epoch)
            history.append(record)
            monitored.append(val[watched] if np.isfinite(val[watched]) else -np.inf)
            log.info(
                "epoch %d: %s",
                epoch,
                " ".join(f"{t}:auc={val[f'{t}:auc']:.4f}" for t in self.dataset.schema.tasks),
            )
            self._warn_constant_tasks(val, epoch, constant)
            if best_epoch(monitored) == epoch:
                best_state = copy.deepcopy(self.model.state_dict())
            if should_stop(monitored, self.config.patience):
                break
        self.model.load_state_dict(best_state)
        best = best_epoch(monitored)
        val_metrics = {
            k.removeprefix("val:"): v for k, v in history[best - 1].items() if k.startswith("val:")
        }
        test_metrics = self.evaluate("test")
        return RankResult(
            model=self.model,
            config=self.config,
            best_epoch=best,
            val_metrics=val_metrics,
            test_metrics=test_metrics,
            history=history,
            seconds_per_epoch=train_seconds / len(history),
        )
