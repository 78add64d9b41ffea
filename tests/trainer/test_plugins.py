"""A combiner declared at run time (PMTREC_PLUGINS) is trained by trainer.fit, grid-searched
by trainer.search, tuned by the experiments and validated by POST /retrain, with no edit to
the product: its declaration is the one source of its name, flag and range."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.trainer.test_records_before_registry import DATA


def _run(module: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PMTREC_PLUGINS": "tests.plugins.toy",
        "PMTREC_BUNDLE_ROOT": str(tmp_path / "bundles"),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_trainer_fit_trains_a_plugin_combiner(tmp_path):
    out = tmp_path / "toy"
    common = [*DATA, "--method", "toy", "--epochs", "2", "--dim", "8", "--device", "cpu"]
    done = _run("trainer.fit", *common, "--toy-param", "0.5", "--out", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ToyCombiner(toy_param=0.5)" in done.stderr  # the loop's start line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["method"] == "toy"
    assert manifest["hyperparameters"]["toy_param"] == 0.5
    # The declared range is the flag's range.
    refused = _run("trainer.fit", *common, "--toy-param", "2", tmp_path=tmp_path)
    assert refused.returncode == 2
    assert "error: toy_param must be in [0, 1], got 2.0" in refused.stderr


def test_trainer_search_grids_over_a_plugin_parameter(tmp_path):
    log = tmp_path / "search.jsonl"
    args = [*DATA, "--method", "toy", "--grid", "toy_param=0.25,0.5", "epochs=2", "dim=8"]
    args += ["--workers", "1", "--log", str(log)]
    done = _run("trainer.search", *args, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["config"]["toy_param"] for r in records) == [0.25, 0.5]
    assert {r["config"]["method"] for r in records} == {"toy"}
    again = _run("trainer.search", *args, tmp_path=tmp_path)  # resumes: nothing left to run
    assert again.returncode == 0, again.stderr
    assert "2 runs in the grid, 2 already done, 0 to run" in again.stderr


def test_the_experiments_tune_a_plugin_over_its_declared_values(toy_declared):
    from trainer.experiments.grids import tuning_grid

    grid = tuning_grid("toy")
    assert [c["toy_param"] for c in grid[:4]] == [0.5, 0.5, 1.0, 1.0]
