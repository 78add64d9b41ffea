"""Recorded runs keep their identity when TrainConfig gains a field (resumable logs)."""

from trainer.experiments.runs import run_key
from trainer.search import _key
from trainer.training import TrainConfig


def recorded_before_val_users(config: TrainConfig) -> dict:
    values = config.hyperparameters()
    del values["val_users"]
    return values


def test_experiment_run_key_fills_new_fields_with_defaults():
    config = TrainConfig(method="ew", lr=0.005, seed=2)
    old = recorded_before_val_users(config)
    assert run_key("office", old) == run_key("office", config)
    assert run_key("office", old) != run_key("office", TrainConfig(method="ew", seed=2))
    sampled = TrainConfig(method="ew", lr=0.005, seed=2, val_users=100)
    assert run_key("office", old) != run_key("office", sampled)


def test_search_key_fills_new_fields_and_tells_cores_apart():
    config = TrainConfig(method="bpr", lr=0.05)
    old = recorded_before_val_users(config)
    assert _key(old) == _key(config) == _key(config, core=0)
    assert _key(config, core=5) != _key(config)
