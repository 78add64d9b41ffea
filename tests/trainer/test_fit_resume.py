"""``python -m trainer.fit --resume`` after a crash: the bundle equals an uninterrupted run's."""

from __future__ import annotations

import numpy as np
import pytest

from shared.bundle import load_bundle
from tests.jobs.conftest import write_taste_csv
from trainer import fit
from trainer.training import Trainer


class Crash(BaseException):
    """Stands for a kill (SIGKILL, OOM): nothing catches it, nothing is cleaned up."""


def test_fit_resumes_after_a_crash_with_the_uninterrupted_result(tmp_path, monkeypatch):
    csv = write_taste_csv(tmp_path / "ratings.csv")
    flags = ["--dataset", "csv", "--interactions", str(csv), "--epochs", "6", "--patience", "100"]
    flags += ["--lr", "0.05", "--device", "cpu", "--no-download", "--no-progress"]
    assert fit.main([*flags, "--out", str(tmp_path / "whole")]) == 0

    resumed = tmp_path / "resumed"
    checkpoint = tmp_path / "resumed.checkpoint"
    train_epoch = Trainer.train_epoch

    def crash_in_epoch_4(self, epoch):
        if epoch == 4:
            raise Crash("killed in epoch 4")
        return train_epoch(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", crash_in_epoch_4)
    with pytest.raises(Crash):
        fit.main([*flags, "--out", str(resumed)])
    monkeypatch.undo()
    assert not resumed.exists() and (checkpoint / "training-state.pt").is_file()

    # Without --resume the checkpoint is not silently thrown away.
    assert fit.main([*flags, "--out", str(resumed)]) == 2
    trained: list[int] = []

    def counting(self, epoch):
        trained.append(epoch)
        return train_epoch(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", counting)
    assert fit.main([*flags, "--out", str(resumed), "--resume"]) == 0
    assert trained == [4, 5, 6]
    assert not checkpoint.exists()  # removed once the bundle is written

    whole, again = load_bundle(tmp_path / "whole"), load_bundle(resumed)
    assert np.array_equal(whole.user_embeddings, again.user_embeddings)
    assert np.array_equal(whole.item_embeddings, again.item_embeddings)
    assert whole.manifest["metrics"] == again.manifest["metrics"]
    assert whole.manifest["best_epoch"] == again.manifest["best_epoch"]


def test_resume_with_other_flags_exits_2(tmp_path, monkeypatch):
    csv = write_taste_csv(tmp_path / "ratings.csv")
    flags = ["--dataset", "csv", "--interactions", str(csv), "--epochs", "3", "--no-progress"]
    flags += ["--device", "cpu", "--out", str(tmp_path / "out")]
    train_epoch = Trainer.train_epoch

    def crash_in_epoch_2(self, epoch):
        if epoch == 2:
            raise Crash("killed in epoch 2")
        return train_epoch(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", crash_in_epoch_2)
    with pytest.raises(Crash):
        fit.main(flags)
    monkeypatch.undo()
    assert fit.main([*flags, "--resume", "--lr", "0.5"]) == 2
    assert not (tmp_path / "out").exists()
