"""The ranker's loop: early stopping on validation mean AUC, best epoch restored, test once."""

from __future__ import annotations

import pytest

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
