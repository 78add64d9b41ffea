"""Bundles, checkpoints, experiment run logs and search logs written before the components
were declared in one registry still load, keep their identity and resume
(tests/fixtures/before_registry/README.md says how each was written)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from shared.bundle import load_bundle, verify_bundle
from shared.components import own_tuning_values
from tests.conftest import REPO
from trainer.experiments.experiment import Experiment
from trainer.experiments.runs import own_hyperparameters, run_key
from trainer.experiments.sources import NamedDataset
from trainer.fit import main as fit_main
from trainer.search import _key as search_key
from trainer.training import TrainConfig

BEFORE = REPO / "tests" / "fixtures" / "before_registry"
# The tiny CSV data the records were written on (tests/trainer/test_plugins.py trains on it too).
DATA = [
    "--dataset",
    "csv",
    "--interactions",
    str(BEFORE / "interactions.csv"),
    "--item-pairs",
    str(BEFORE / "item_pairs.csv"),
]
FLAGS = [
    *DATA,
    "--method",
    "pmtrec",
    "--epochs",
    "6",
    "--lr",
    "0.05",
    "--dim",
    "8",
    "--batch-size",
    "64",
    "--device",
    "cpu",
    "--no-progress",
]


def _config(values: dict) -> TrainConfig:
    """A stored configuration as a TrainConfig of today (fields added since at defaults)."""
    values = TrainConfig.recorded(values)
    tuples = {k: tuple(values[k]) for k in ("auxiliary_tasks", "eval_ks")}
    return TrainConfig(**{**values, **tuples})


def test_a_bundle_written_before_loads():
    bundle = load_bundle(BEFORE / "bundle-pmtrec")
    verify_bundle(BEFORE / "bundle-pmtrec")
    assert bundle.manifest["method"] == "pmtrec"
    stored = bundle.manifest["hyperparameters"]
    values = _config(stored).hyperparameters()
    assert {key: values[key] for key in stored} == stored
    # Fields added since the bundle was written take their defaults.
    defaults = TrainConfig().hyperparameters()
    added = [key for key in values if key not in stored]
    assert {key: values[key] for key in added} == {key: defaults[key] for key in added}


def test_a_checkpoint_written_before_resumes_to_the_same_model(tmp_path):
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(BEFORE / "checkpoint-pmtrec", checkpoint)
    out = tmp_path / "bundle"
    args = [*FLAGS, "--out", str(out), "--resume", "--checkpoint-dir", str(checkpoint)]
    assert fit_main(args) == 0
    for name in ("user_embeddings.npy", "item_embeddings.npy"):
        assert np.array_equal(np.load(out / name), np.load(BEFORE / "bundle-pmtrec" / name))
    assert not checkpoint.exists()  # removed once the bundle is written


def test_experiment_runs_recorded_before_are_reused(tmp_path):
    (tmp_path / "office").mkdir()
    shutil.copy(BEFORE / "runs.jsonl", tmp_path / "office" / "runs.jsonl")
    records = [json.loads(line) for line in (BEFORE / "runs.jsonl").read_text().splitlines()]
    experiment = Experiment(NamedDataset("office", tmp_path), out=tmp_path, workers=0)
    # The configurations the experiment builds today for those runs carry their identity.
    configs = []
    for record in records:
        stored = record["config"]
        method = stored["method"]
        own = {name: stored[name] for name in own_hyperparameters(method)}
        configs.append(
            experiment.config(method, lr=stored["lr"], weight_decay=stored["weight_decay"], **own)
        )
        assert run_key("office", configs[-1]) == run_key("office", stored)
    assert experiment.recorded(configs) == len(records)
    reused = experiment.run(configs)  # nothing is trained: every run is recorded
    assert experiment.executor.new_runs == 0
    assert [r["test"] for r in reused] == [r["test"] for r in records]
    # The tuning grid still starts where the recorded budget runs were taken.
    assert own_tuning_values("cagrad")[:2] == ({"cagrad_c": 0.4}, {"cagrad_c": 0.2})


def test_search_records_written_before_keep_their_identity():
    lines = (BEFORE / "search-office-pmtrec.jsonl").read_text().splitlines()
    for record in map(json.loads, lines):
        core = record.get("core", 0)
        assert search_key(_config(record["config"]), core) == search_key(record["config"], core)


@pytest.mark.real_data
def test_a_search_resumes_from_a_log_written_before(data_dir, tmp_path, capsys, monkeypatch):
    from trainer.search import main as search_main

    monkeypatch.setenv("PMTREC_DATA_DIR", str(data_dir))
    log = tmp_path / "search.jsonl"
    first = (BEFORE / "search-office-pmtrec.jsonl").read_text().splitlines()[0]
    log.write_text(first + "\n")
    stored = json.loads(first)["config"]
    grid = [f"{name}={stored[name]}" for name in ("lr", "weight_decay", "alpha", "tau", "dim")]
    grid += ["init=xavier"]  # the record predates init (its default then and now: xavier)
    args = ["--dataset", "office", "--method", "pmtrec", "--log", str(log), "--grid", *grid]
    assert search_main(args) == 0
    assert log.read_text().splitlines() == [first]  # nothing ran again
    assert f"{json.loads(first)['val']['recall@20']:9.4f}" in capsys.readouterr().out
