"""Training configuration, validated before any work starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shared.hyperparameters import (
    MAX_BATCH_SIZE,
    MAX_DIM,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_SEED,
    MAX_VAL_USERS,
)
from trainer.combiners import COMBINERS
from trainer.encoders import ENCODERS

INITS = ("xavier", "als")


class ConfigError(ValueError):
    """A hyper-parameter or option is out of range."""


@dataclass(frozen=True)
class TrainConfig:
    method: str = "pmtrec"
    encoder: str = "mf"
    dim: int = 32
    lr: float = 0.01
    weight_decay: float = 1e-6
    alpha: float = 1.0
    tau: float = 1.0
    au_gamma: float = 1.0
    # Links each link-prediction task (social, same_category, co_view, ...) draws per step, as
    # a fraction of the step's training positives: below 1 the task touches fewer rows a step.
    link_ratio: float = 1.0
    cagrad_c: float = 0.4
    gradvac_beta: float = 0.01
    layers: int = 3
    # Starting point of the embedding tables: "xavier" (random) or "als", the factors of an
    # ALS fit on the same training data (trainer/baselines/warm_start.py), which the tasks then
    # fine-tune: the multi-task model starts where the strongest cheap baseline ends.
    init: str = "xavier"
    batch_size: int = 2048
    epochs: int = 300
    patience: int = 10
    # 0: monitor every validation user each epoch; N > 0: a fixed random sample of N of them
    # (seeded), for catalogues where a full ranking per epoch costs more than the epoch. The
    # restored best model is scored on every validation user at the end either way.
    val_users: int = 0
    seed: int = 0
    device: str = "auto"
    auxiliary_tasks: tuple[str, ...] = field(default_factory=tuple)
    eval_ks: tuple[int, ...] = (5, 10, 20, 40)
    monitor: str = "recall@20"
    # "adam": Algorithm 1's dense Adam; "row_sparse_adam": moments and values of the rows a
    # step touches only (trainer/training/row_sparse_adam.py), for very large tables, MF only.
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        checks = [
            (
                self.method in COMBINERS,
                f"unknown method '{self.method}'; valid names: {', '.join(COMBINERS)}",
            ),
            (
                self.encoder in ENCODERS,
                f"unknown encoder '{self.encoder}'; valid names: {', '.join(ENCODERS)}",
            ),
            (
                self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
                f"device must be auto, cpu or cuda, got '{self.device}'",
            ),
            (0 < self.dim <= MAX_DIM, f"dim must be in [1, {MAX_DIM}], got {self.dim}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.alpha >= 1, f"alpha must be >= 1, got {self.alpha}"),
            (self.tau > 0, f"tau must be > 0, got {self.tau}"),
            (self.au_gamma >= 0, f"au_gamma must be >= 0, got {self.au_gamma}"),
            (
                0 < self.link_ratio <= 1,
                f"link_ratio must be in (0, 1], got {self.link_ratio}",
            ),
            (self.cagrad_c >= 0, f"cagrad_c must be >= 0, got {self.cagrad_c}"),
            (
                0 <= self.gradvac_beta <= 1,
                f"gradvac_beta must be in [0, 1], got {self.gradvac_beta}",
            ),
            (
                self.init in INITS,
                f"init must be one of {', '.join(INITS)}, got '{self.init}'",
            ),
            (
                1 <= self.layers <= MAX_LAYERS,
                f"layers must be in [1, {MAX_LAYERS}], got {self.layers}",
            ),
            (
                0 < self.batch_size <= MAX_BATCH_SIZE,
                f"batch_size must be in [1, {MAX_BATCH_SIZE}], got {self.batch_size}",
            ),
            (
                0 < self.epochs <= MAX_EPOCHS,
                f"epochs must be in [1, {MAX_EPOCHS}], got {self.epochs}",
            ),
            (
                0 < self.patience <= MAX_EPOCHS,
                f"patience must be in [1, {MAX_EPOCHS}], got {self.patience}",
            ),
            (
                0 <= self.val_users <= MAX_VAL_USERS,
                f"val_users must be in [0, {MAX_VAL_USERS}], got {self.val_users}",
            ),
            (0 <= self.seed <= MAX_SEED, f"seed must be in [0, {MAX_SEED}], got {self.seed}"),
            (all(k > 0 for k in self.eval_ks), f"every k must be > 0, got {self.eval_ks}"),
            (
                self.optimizer in ("adam", "row_sparse_adam"),
                f"optimizer must be adam or row_sparse_adam, got '{self.optimizer}'",
            ),
            (
                self.optimizer == "adam" or self.encoder == "mf",
                "optimizer row_sparse_adam needs a row-local encoder (mf): graph encoders "
                "touch every row each step",
            ),
        ]
        errors = [message for ok, message in checks if not ok]
        if errors:
            raise ConfigError("; ".join(errors))

    @staticmethod
    def recorded(values: TrainConfig | dict[str, Any]) -> dict[str, Any]:
        """Every hyper-parameter of a configuration or of a stored record of one; fields added
        to TrainConfig since the record was written take their defaults, so resumable run logs
        keep matching when the configuration grows."""
        if isinstance(values, TrainConfig):
            return values.hyperparameters()
        return {**TrainConfig().hyperparameters(), **values}

    def hyperparameters(self) -> dict[str, Any]:
        """Everything that shapes the model, for the bundle manifest."""
        values = asdict(self)
        values["auxiliary_tasks"] = list(self.auxiliary_tasks)
        values["eval_ks"] = list(self.eval_ks)
        return values
