"""Configuration and result of the strong single-model baselines (ALS, EASE).

They are not gradient combiners: ALS alternates closed-form least-squares solves and EASE is
one matrix inverse, so they have their own small configuration rather than TrainConfig's
learning rates and tasks. Validated before any work starts, like TrainConfig.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from shared.components import TRAINING
from shared.registry import problems
from trainer.baselines import BASELINE_METHODS, INPUTS
from trainer.training import ConfigError

# The settings a baseline shares with the training loop (checked by their declarations).
_SHARED = ("seed", "device", "val_users", "eval_exclude")


@dataclass(frozen=True)
class BaselineConfig:
    method: str = "als"
    # ALS: number of factors. EASE: the rank the bundle serves (0: exact, one dimension per
    # item; below the catalogue size a truncated SVD of the item-item weights).
    dim: int = 128
    # L2 regularisation: ALS's lambda, EASE's lambda added to the Gram matrix's diagonal.
    reg: float = 300.0
    # ALS confidence weight of a positive (implicit's alpha): c = confidence * 1.
    confidence: float = 100.0
    # ALS sweeps; the best one on validation is kept (validation after every sweep).
    iterations: int = 15
    # Which training interactions form the binary input matrix (trainer.baselines.INPUTS).
    inputs: str = "all"
    # EASE refuses catalogues whose item-item matrices would need more memory than this.
    max_memory_gb: float = 4.0
    val_users: int = 0
    # What evaluation leaves out of the ranked lists (the training loop's eval_exclude).
    eval_exclude: str = "positives"
    seed: int = 0
    device: str = "auto"
    eval_ks: tuple[int, ...] = (5, 10, 20, 40)
    monitor: str = "recall@20"

    def __post_init__(self) -> None:
        checks = [
            (
                self.method in BASELINE_METHODS,
                f"unknown baseline '{self.method}'; valid names: {', '.join(BASELINE_METHODS)}",
            ),
            (self.dim > 0 or (self.method == "ease" and self.dim == 0), self._dim_message()),
            (
                self.inputs in INPUTS,
                f"inputs must be one of {', '.join(INPUTS)}, got '{self.inputs}'",
            ),
            (self.reg > 0, f"reg must be > 0, got {self.reg}"),
            (self.confidence > 0, f"confidence must be > 0, got {self.confidence}"),
            (self.iterations > 0, f"iterations must be > 0, got {self.iterations}"),
            (self.max_memory_gb > 0, f"ease_max_gb must be > 0, got {self.max_memory_gb}"),
            (all(k > 0 for k in self.eval_ks), f"every k must be > 0, got {self.eval_ks}"),
        ]
        errors = [message for ok, message in checks if not ok]
        # The settings a baseline shares with the training loop, checked by their declarations.
        errors += problems(
            {name: getattr(self, name) for name in _SHARED},
            (p for p in TRAINING if p.name in _SHARED),
        )
        if errors:
            raise ConfigError("; ".join(errors))

    def _dim_message(self) -> str:
        if self.method == "ease":
            return f"dim must be >= 0 for ease (0: exact), got {self.dim}"
        return f"dim must be > 0, got {self.dim}"

    def hyperparameters(self) -> dict[str, Any]:
        """Everything that shapes the model, for the bundle manifest."""
        values = asdict(self)
        values["eval_ks"] = list(self.eval_ks)
        return values


@dataclass
class BaselineResult:
    """A fitted baseline as the bundle serves it.

    ``user_vectors @ item_vectors.T`` are the scores the evaluator and the service rank by;
    ``fold_in_vectors`` are what the bundle's cold-start encoder averages over a history.
    """

    config: BaselineConfig
    user_vectors: np.ndarray
    item_vectors: np.ndarray
    fold_in_vectors: np.ndarray
    val_metrics: dict[str, float]
    best_iteration: int = 1
    # Monitored validation metric after each ALS sweep (one entry for EASE).
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    # Method-specific facts for the manifest (EASE: memory, served rank, exactness).
    details: dict[str, Any] = field(default_factory=dict)

    def torch_vectors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """User and item vectors as the evaluator takes them."""
        return torch.from_numpy(self.user_vectors), torch.from_numpy(self.item_vectors)
