"""Restart-safe training: a run stopped after any epoch and resumed from its checkpoint ends
with exactly the parameters, history and metrics of an uninterrupted run (CPU)."""

from __future__ import annotations

import pytest
import torch

from trainer.training import CheckpointMismatch, CheckpointStore, TrainConfig, Trainer
from trainer.training.callbacks import TrainingCallback

AUX = ("align_uniform", "rating")


class Crash(BaseException):
    """Stands for a kill: nothing in the loop may catch it."""


class CrashAt(TrainingCallback):
    """Fails in the middle of ``epoch`` (after some of its steps changed the model), as a kill
    mid-epoch would."""

    def __init__(self, epoch: int, after_steps: int = 1) -> None:
        self.epoch, self.after_steps, self.steps = epoch, after_steps, 0

    def on_step(self, trainer: Trainer, epoch: int) -> None:
        if epoch == self.epoch:
            if self.steps == self.after_steps:
                raise Crash(f"killed in epoch {epoch}")
            self.steps += 1


class CrashAfter(TrainingCallback):
    """Fails right after ``epoch`` ended (its checkpoint written)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Trainer, record) -> None:
        if record.epoch == self.epoch:
            raise Crash(f"killed after epoch {record.epoch}")


class Epochs(TrainingCallback):
    def __init__(self) -> None:
        self.seen: list[int] = []

    def on_epoch_end(self, trainer: Trainer, record) -> None:
        self.seen.append(record.epoch)


def _config(**overrides) -> TrainConfig:
    values = {"auxiliary_tasks": AUX, "batch_size": 32, "epochs": 6, "patience": 100}
    return TrainConfig(**{**values, **overrides})


def _assert_same_run(resumed, uninterrupted) -> None:
    assert resumed.best_epoch == uninterrupted.best_epoch
    assert [r.epoch for r in resumed.history] == [r.epoch for r in uninterrupted.history]
    assert [r.losses for r in resumed.history] == [r.losses for r in uninterrupted.history]
    assert [r.val for r in resumed.history] == [r.val for r in uninterrupted.history]
    assert resumed.val_metrics == uninterrupted.val_metrics
    ours, theirs = resumed.encoder.state_dict(), uninterrupted.encoder.state_dict()
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key


@pytest.mark.parametrize(
    "method,encoder",
    [("pmtrec", "mf"), ("gradvac", "mf"), ("rlw", "mf"), ("ew", "lightgcn")],
)
def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(
    tiny_dataset, tmp_path, method, encoder
):
    # gradvac keeps an EMA across steps, rlw draws from torch's global generator, lightgcn
    # has a dense graph step: every kind of state the loop carries.
    config = _config(method=method, encoder=encoder)
    uninterrupted = Trainer(tiny_dataset, config, progress=False).fit()

    store = CheckpointStore(tmp_path / "checkpoint")
    with pytest.raises(Crash):
        Trainer(
            tiny_dataset, config, progress=False, callbacks=[CrashAt(4)], checkpoints=store
        ).fit()
    assert store.exists()
    # A new process: fresh trainer, fresh generators; the state comes from the checkpoint.
    torch.manual_seed(12345)
    epochs = Epochs()
    resumed = Trainer(
        tiny_dataset, config, progress=False, callbacks=[epochs], checkpoints=store
    ).fit()
    assert epochs.seen == [4, 5, 6]  # epochs 1-3 were not trained again
    _assert_same_run(resumed, uninterrupted)


def test_early_stopping_state_survives_a_restart(tiny_dataset, tmp_path):
    # A patience that fires within the budget: the resumed run must stop at the same epoch,
    # which it can only do if it knows the monitored history of the epochs before the crash.
    config = _config(epochs=40, patience=2, lr=0.05)
    uninterrupted = Trainer(tiny_dataset, config, progress=False).fit()
    stopped_at = len(uninterrupted.history)
    assert stopped_at < config.epochs  # early stopping fired
    crash_after = max(stopped_at - 1, 1)

    store = CheckpointStore(tmp_path / "checkpoint")
    with pytest.raises(Crash):
        Trainer(
            tiny_dataset,
            config,
            progress=False,
            callbacks=[CrashAfter(crash_after)],
            checkpoints=store,
        ).fit()
    resumed = Trainer(tiny_dataset, config, progress=False, checkpoints=store).fit()
    _assert_same_run(resumed, uninterrupted)


def test_a_run_killed_after_its_last_epoch_trains_no_more(tiny_dataset, tmp_path):
    config = _config(epochs=3)
    uninterrupted = Trainer(tiny_dataset, config, progress=False).fit()
    store = CheckpointStore(tmp_path / "checkpoint")
    with pytest.raises(Crash):
        Trainer(
            tiny_dataset, config, progress=False, callbacks=[CrashAfter(3)], checkpoints=store
        ).fit()
    epochs = Epochs()
    resumed = Trainer(
        tiny_dataset, config, progress=False, callbacks=[epochs], checkpoints=store
    ).fit()
    assert epochs.seen == []
    _assert_same_run(resumed, uninterrupted)


def test_a_checkpoint_of_another_run_is_refused(tiny_dataset, tmp_path):
    store = CheckpointStore(tmp_path / "checkpoint")
    with pytest.raises(Crash):
        Trainer(
            tiny_dataset, _config(), progress=False, callbacks=[CrashAfter(1)], checkpoints=store
        ).fit()
    other = Trainer(tiny_dataset, _config(lr=0.5), progress=False, checkpoints=store)
    with pytest.raises(CheckpointMismatch, match="other hyper-parameters \\(lr\\)"):
        other.fit()
    (tmp_path / "checkpoint" / "training-state.pt").write_bytes(b"truncated")
    with pytest.raises(CheckpointMismatch, match="cannot be read"):
        Trainer(tiny_dataset, _config(), progress=False, checkpoints=store).fit()


def test_the_checkpoint_is_replaced_atomically(tiny_dataset, tmp_path):
    # After every save only the finished file is there (the partial file was renamed over it).
    store = CheckpointStore(tmp_path / "checkpoint")
    Trainer(tiny_dataset, _config(epochs=2), progress=False, checkpoints=store).fit()
    assert sorted(p.name for p in store.folder.iterdir()) == ["training-state.pt"]
