"""The ranker's loop: early stopping on validation mean AUC, best epoch restored, test once."""

from __future__ import annotations

import logging

import pytest
import torch

from trainer.ranking import training
from trainer.ranking.models import RankerConfig
from trainer.ranking.training import RankTrainConfig, RankTrainer, evaluate

SMALL = RankerConfig(dim=4, expert_dims=(16,), tower_dims=(8,), num_experts=3)


def test_best_epoch_weights_are_restored_and_test_scored_once(tiny_ranking, monkeypatch):
    calls = []
    real = training.evaluate

    def counting(model, dataset, split):
        calls.append(split)
        return real(model, dataset, split)

    monkeypatch.setattr(training, "evaluate", counting)
    config = RankTrainConfig(
        model="mmoe", lr=0.05, epochs=8, patience=2, batch_size=32, ranker=SMALL
    )
    result = RankTrainer(tiny_ranking, config, progress=False).fit()
    assert calls.count("test") == 1 and calls[-1] == "test"
    monitored = [r["val:mean_auc"] for r in result.history]
    assert result.best_epoch == monitored.index(max(monitored)) + 1
    assert result.val_metrics["mean_auc"] == max(monitored)
    # The returned model is the best epoch's: its validation score is the recorded best.
    assert evaluate(result.model, tiny_ranking, "val")["mean_auc"] == pytest.approx(max(monitored))
    stopped_early = len(result.history) < 8
    assert not stopped_early or len(result.history) - result.best_epoch == 2


def test_bad_training_settings_are_refused():
    with pytest.raises(ValueError, match="positive"):
        RankTrainConfig(lr=0)


def test_a_task_with_a_dead_tower_is_reported_once(tiny_ranking, caplog):
    """Every unit of the second task's tower switched off: it scores every sample the same,
    learns nothing (no gradient passes a dead ReLU), and the log says so once, not every
    epoch; the healthy task is not named."""
    config = RankTrainConfig(
        model="mmoe", lr=0.01, epochs=3, patience=5, batch_size=32, ranker=SMALL
    )
    trainer = RankTrainer(tiny_ranking, config, progress=False)
    with torch.no_grad():
        trainer.model.towers[1][0].bias.fill_(-1e6)
    with caplog.at_level(logging.WARNING, logger="trainer.ranking.training"):
        result = trainer.fit()
    dead, alive = tiny_ranking.schema.tasks[1], tiny_ranking.schema.tasks[0]
    assert all(r[f"val:{dead}:auc"] == 0.5 for r in result.history)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"task {dead} " in warnings[0] and "dead" in warnings[0]
    assert f"task {alive} " not in warnings[0]
