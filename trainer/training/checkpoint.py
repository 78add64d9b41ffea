"""Restart-safe training: the loop's whole state, saved atomically after every epoch.

A run that crashes or is killed (SIGKILL, OOM, a lost machine) resumes from its last finished
epoch with the same model, optimiser (Adam moments), random generators, combiner state
(GradVac's EMA, ...) and early-stopping history; on CPU the resumed run ends with the same
parameters as an uninterrupted one.

A checkpoint records the configuration and a fingerprint of the training data; resuming with
other hyper-parameters or other data is refused (``CheckpointMismatch``) rather than mixing two
runs. Checkpoints are written to a temporary file, flushed and renamed over the previous one,
so a kill mid-write leaves the previous epoch's checkpoint intact.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from trainer.data import RecDataset
from trainer.training.config import ConfigError

if TYPE_CHECKING:
    from trainer.training.loop import EpochRecord, Trainer

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "training-state.pt"
FORMAT = 1


class CheckpointMismatch(ConfigError):
    """The checkpoint belongs to another run (other hyper-parameters or other data)."""


def data_fingerprint(dataset: RecDataset) -> str:
    """A digest of everything the loop trains and validates on (ids, splits, ratings)."""
    digest = hashlib.sha256()
    digest.update(f"{dataset.name}|{dataset.num_users}|{dataset.num_items}".encode())
    for split in (dataset.train, dataset.val, dataset.test):
        for array in (split.users, split.items, split.ratings):
            digest.update(array.tobytes())
    for ids in (dataset.user_ids, dataset.item_ids):
        digest.update("\x00".join(map(str, ids)).encode())
    for name, pairs in dataset.behaviors.items():  # none: the digest of earlier versions
        digest.update(name.encode())
        digest.update(pairs.users.tobytes() + pairs.items.tobytes())
    return digest.hexdigest()


@dataclass
class LoopState:
    """Where the epoch loop stands: what ``Trainer.fit`` needs to go on from ``epoch``."""

    epoch: int = 0
    history: list[EpochRecord] = field(default_factory=list)
    monitored: list[float] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False  # early stopping fired (or the last epoch ran): nothing left to train


class CheckpointStore:
    """One run's checkpoint in ``folder`` (created on the first save)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / CHECKPOINT_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, trainer: Trainer, state: LoopState) -> None:
        payload = {
            "format": FORMAT,
            "hyperparameters": trainer.config.hyperparameters(),
            "data": data_fingerprint(trainer.dataset),
            "loop": state,
            "encoder": trainer.encoder.state_dict(),
            "optimizer": trainer.optimizer.state_dict(),
            "generator": trainer.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "combiner": trainer.combiner,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        # A name of its own: a stalled attempt that lost its claim may still be saving while
        # the job's next attempt does (both on the same deterministic trajectory).
        partial = self.path.with_name(f".{CHECKPOINT_FILE}.{os.getpid()}-{uuid.uuid4().hex}")
        try:
            with open(partial, "wb") as file:
                torch.save(payload, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, self.path)
        finally:  # a failed write (disk full) leaves the previous checkpoint and no litter
            partial.unlink(missing_ok=True)
        _fsync_folder(self.folder)

    def restore(self, trainer: Trainer) -> LoopState:
        """Load the checkpoint into ``trainer`` (model, optimiser, generators, combiner) and
        return the loop's state; ``CheckpointMismatch`` if it belongs to another run."""
        try:
            # Our own file (pickled loop state and combiner), written under the bundle root.
            payload: dict[str, Any] = torch.load(self.path, map_location="cpu", weights_only=False)
        except Exception as error:  # a truncated or foreign file
            raise CheckpointMismatch(f"checkpoint {self.path} cannot be read: {error}") from error
        if payload.get("format") != FORMAT:
            raise CheckpointMismatch(f"checkpoint {self.path} has an unknown format")
        ours = trainer.config.hyperparameters()
        # Fields added to the configuration since the checkpoint was written take their
        # defaults, as in resumable run logs.
        theirs = type(trainer.config).recorded(payload["hyperparameters"])
        changed = sorted(
            key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key)
        )
        if changed:
            raise CheckpointMismatch(
                f"checkpoint {self.path} was written with other hyper-parameters "
                f"({', '.join(changed)}); start without resuming or remove it"
            )
        if payload["data"] != data_fingerprint(trainer.dataset):
            raise CheckpointMismatch(
                f"checkpoint {self.path} was written for other training data "
                "(the dataset's files or the merged feedback changed)"
            )
        trainer.encoder.load_state_dict(payload["encoder"])
        trainer.optimizer.load_state_dict(payload["optimizer"])
        trainer.generator.set_state(payload["generator"])
        torch.set_rng_state(payload["torch_rng"])
        combiner = payload["combiner"]
        if trainer.combiner.generator is not None:  # its draws come from the run's generator
            combiner.generator = trainer.generator
        trainer.combiner = combiner
        state: LoopState = payload["loop"]
        state.best_state = {
            key: value.to(trainer.device) for key, value in state.best_state.items()
        }
        log.info("resuming from %s after epoch %d", self.path, state.epoch)
        return state

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on every platform; the rename itself is atomic
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
