"""The command lines: bad input exits 2 with a clear message and writes nothing."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from shared.bundle import load_bundle
from tests.conftest import REPO
from trainer.defaults import select_auxiliary_tasks
from trainer.training import ConfigError


def run(*args, env=None):
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "netflix"], "invalid choice: 'netflix'"),
        (["--method", "sgd"], "invalid choice: 'sgd'"),
        (["--lr", "0"], "lr must be > 0"),
        (["--alpha", "0.5"], "alpha must be >= 1"),
        (["--tau", "-1"], "tau must be > 0"),
        (["--ks", "0,20"], "every k must be > 0"),
        (["--val-users", "-1"], "val_users must be >= 0"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, args, message):
    result = run("-m", "trainer.fit", *args, "--out", str(tmp_path / "b"))
    assert result.returncode == 2
    assert message in result.stderr
    if "choice" in message:  # the valid names are listed
        assert "office" in result.stderr if "netflix" in message else "pmtrec" in result.stderr
    assert not (tmp_path / "b").exists()


def test_missing_data_exits_2_naming_path_variable_and_url(tmp_path):
    result = run(
        "-m",
        "trainer.fit",
        "--out",
        str(tmp_path / "b"),
        "--no-download",
        env={"PMTREC_DATA_DIR": str(tmp_path / "nowhere")},
    )
    assert result.returncode == 2
    assert str(tmp_path / "nowhere" / "office" / "train.txt") in result.stderr
    assert "PMTREC_DATA_DIR" in result.stderr and "raw.githubusercontent.com" in result.stderr
    assert not (tmp_path / "b").exists()


def test_fit_then_evaluate_on_office(tmp_path, data_dir):
    out = tmp_path / "bundle"
    env = {"PMTREC_DATA_DIR": str(data_dir)}
    result = run(
        "-m",
        "trainer.fit",
        "--dataset",
        "office",
        "--epochs",
        "2",
        "--out",
        str(out),
        "--no-progress",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch   2 | bpr" in result.stderr and "val recall@20" in result.stderr
    bundle = load_bundle(out)
    assert bundle.manifest["method"] == "pmtrec"
    assert set(bundle.manifest["metrics"]) == {"val", "test"}
    assert {"recall@20", "ndcg@40", "hit@5"} <= set(bundle.manifest["metrics"]["test"])
    # The main job starts from ALS-128's factors (trainer/defaults.py, issue 19).
    assert (bundle.num_users, bundle.num_items, bundle.dim) == (4905, 2420, 128)
    assert "initialised from ALS (128 factors" in result.stderr
    assert bundle.manifest["hyperparameters"]["init"] == "als"

    again = run("-m", "trainer.fit", "--epochs", "1", "--out", str(out), env=env)
    assert again.returncode == 2 and "--overwrite" in again.stderr

    evaluated = run("-m", "trainer.evaluate", str(out), env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    row = next(line for line in evaluated.stdout.splitlines() if line.startswith("recall@20"))
    _, _val, test, stored = row.split()
    assert abs(float(test) - float(stored)) < 1e-4


def test_tasks_option_takes_default_tasks_and_relations_in_the_order_given():
    hin = SimpleNamespace(
        name="amazon-hin", links={"co_view": 0, "same_category": 0, "same_brand": 0}
    )
    assert select_auxiliary_tasks(hin, "same_brand, co_view") == ("same_brand", "co_view")
    office = SimpleNamespace(name="office", links={})
    assert select_auxiliary_tasks(office, "rating") == ("rating",)
    for bad in (" , ", "rating,rating", "social"):
        with pytest.raises(ConfigError, match="among align_uniform, rating for 'office'"):
            select_auxiliary_tasks(office, bad)


@pytest.mark.parametrize("tasks", ["social", "rating,rating"])
def test_bad_tasks_exit_2_after_loading(tmp_path, data_dir, tasks):
    result = run(
        "-m",
        "trainer.fit",
        "--tasks",
        tasks,
        "--out",
        str(tmp_path / "b"),
        env={"PMTREC_DATA_DIR": str(data_dir)},
    )
    assert result.returncode == 2
    assert "--tasks takes distinct names among align_uniform, rating" in result.stderr
    assert not (tmp_path / "b").exists()
