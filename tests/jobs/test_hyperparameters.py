"""The API's torch-free hyper-parameter rules agree with the trainer's own."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from shared import hyperparameters as shared
from shared.input_paths import PATH_OPTIONS
from trainer.combiners import COMBINERS
from trainer.data import DATASET_OPTIONS as TRAINER_DATASET_OPTIONS
from trainer.data import DATASETS, LoadOptions
from trainer.encoders import ENCODERS
from trainer.training import ConfigError, TrainConfig

PROBES = {
    int: [-5, -1, 0, 1, 2, 1000],
    float: [-1.0, -1e-9, 0.0, 1e-8, 0.5, 0.999, 1.0, 1.0001, 1.2, 50.0],
    str: [
        "auto",
        "cpu",
        "cuda",
        "cuda:1",
        "tpu",
        "",
        "mf",
        "lightgcn",
        "ngcf",
        "gcn",
        "xavier",
        "als",
    ],
}


def test_registries_match_the_trainer():
    assert tuple(DATASETS) == shared.DATASETS
    assert tuple(COMBINERS) == shared.METHODS
    assert tuple(ENCODERS) == shared.ENCODERS
    assert shared.DATASET_LOAD_OPTIONS == TRAINER_DATASET_OPTIONS


def test_every_train_config_field_is_requestable_or_deliberately_not():
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    assert set(shared.TRAIN_HYPERPARAMETERS) | set(shared.NOT_REQUESTABLE) == set(fields)
    assert not set(shared.TRAIN_HYPERPARAMETERS) & set(shared.NOT_REQUESTABLE)
    hints = typing.get_type_hints(TrainConfig)
    for name, parameter in shared.TRAIN_HYPERPARAMETERS.items():
        assert hints[name] is parameter.kind, name


@pytest.mark.parametrize("name", list(shared.TRAIN_HYPERPARAMETERS))
def test_each_rule_accepts_exactly_what_train_config_accepts(name):
    parameter = shared.TRAIN_HYPERPARAMETERS[name]
    for value in PROBES[parameter.kind]:
        try:
            TrainConfig(**{name: value})
            trainer_accepts = True
        except ConfigError:
            trainer_accepts = False
        try:
            shared.validate_hyperparameters({name: value})
            api_accepts = True
        except shared.HyperparameterError:
            api_accepts = False
        assert api_accepts == trainer_accepts, f"{name}={value!r}"


def test_load_options_mirror_the_trainer():
    hints = typing.get_type_hints(LoadOptions)
    assert set(shared.LOAD_OPTIONS) == {f.name for f in dataclasses.fields(LoadOptions)}
    for name, parameter in shared.LOAD_OPTIONS.items():
        # Paths travel as strings in JSON; other strings (target_behavior) stay strings.
        expected = Path if name in PATH_OPTIONS else parameter.kind
        assert expected in typing.get_args(hints[name]) or hints[name] is expected, name
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
