"""Training: configuration, loop and early stopping."""

from trainer.training.config import ConfigError, TrainConfig
from trainer.training.loop import Trainer, TrainResult, resolve_device

__all__ = ["ConfigError", "TrainConfig", "TrainResult", "Trainer", "resolve_device"]
