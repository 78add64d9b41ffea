"""The retrain schema, derived from the component declarations: typed values and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import hyperparameters as shared
from shared.input_paths import PATH_OPTIONS
from trainer.data import LoadOptions
from trainer.training import ConfigError, TrainConfig


def test_load_options_round_trip_to_the_trainer():
    assert set(PATH_OPTIONS) == {"interactions", "item_pairs", "user_pairs"}
    clean = shared.validate_load_options("csv", {"interactions": "/data/x.csv", "core": 5})
    assert LoadOptions.from_manifest(clean) == LoadOptions(core=5, interactions=Path("/data/x.csv"))


def test_messages_name_the_problem_and_json_numbers_are_typed():
    assert shared.validate_hyperparameters({"epochs": 3.0, "lr": 1}) == {"epochs": 3, "lr": 1.0}
    with pytest.raises(shared.HyperparameterError) as error:
        shared.validate_hyperparameters(
            {"epochs": 0, "learning_rate": 0.1, "lr": "fast", "dim": True, "tau": float("nan")}
        )
    message = str(error.value)
    assert "epochs must be in [1, 10000], got 0" in message
    assert "unknown hyper-parameter 'learning_rate'" in message and "valid names: " in message
    assert "lr must be a number" in message
    assert "dim must be an integer" in message
    assert "tau must be a number" in message
    with pytest.raises(shared.HyperparameterError, match="does not take core"):
        shared.validate_load_options("office", {"core": 5})
    with pytest.raises(shared.HyperparameterError, match=r"needs load_options\.interactions"):
        shared.validate_load_options("csv", {})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"encoder": "gcn"}, "unknown encoder 'gcn'; valid names: mf, lightgcn, ngcf"),
        ({"device": "tpu"}, "device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
        ({"gradvac_beta": 1.5}, "gradvac_beta must be in [0, 1], got 1.5"),
        ({"cagrad_c": -0.1}, "cagrad_c must be >= 0, got -0.1"),
        ({"optimizer": "row_sparse_adam", "encoder": "ngcf"}, "needs a row-local encoder"),
    ],
)
def test_the_api_and_the_trainer_refuse_with_the_same_words(values, message):
    with pytest.raises(shared.HyperparameterError) as api:
        shared.validate_hyperparameters(values)
    with pytest.raises(ConfigError) as trainer:
        TrainConfig(**values)
    assert message in str(api.value) and message in str(trainer.value)
