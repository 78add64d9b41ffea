"""Hooks into the training loop, so callers (the worker's jobs) observe and stop training
without overriding the loop's methods (an override that drifted from ``Trainer.validate``'s
signature once crashed every retrain that monitored a validation sample)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainer.training.loop import EpochRecord, Trainer


class TrainingCallback:
    """No-op hooks; subclasses override the ones they need. An exception raised by a hook
    stops training and propagates out of ``Trainer.fit``."""

    def on_step(self, trainer: Trainer, epoch: int) -> None:
        """Before each optimisation step (cheap checks only: this runs every batch)."""

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        """After an epoch was trained, validated and (with a checkpoint store) saved."""
