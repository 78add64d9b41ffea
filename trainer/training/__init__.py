"""Training: configuration, loop and early stopping."""

from trainer.training.callbacks import TrainingCallback
from trainer.training.checkpoint import CheckpointMismatch, CheckpointStore
from trainer.training.config import ConfigError, TrainConfig
from trainer.training.loop import Trainer, TrainResult, resolve_device

__all__ = [
    "CheckpointMismatch",
    "CheckpointStore",
    "ConfigError",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingCallback",
    "resolve_device",
]
