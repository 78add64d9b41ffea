"""The command lines: bad input exits 2 with a clear message and writes nothing."""

import os
import re
import signal
import subprocess
import sys
import threading
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
        (["--val-users", "-1"], "val_users must be in [0, 10000000], got -1"),
        (["--dim", "1000000000000"], "dim must be in [1, 4096]"),
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
    assert "epoch   2/2 | bpr" in result.stderr and "val recall@20" in result.stderr
    bundle = load_bundle(out)
    # The main job trains Office's declared default: EW at its searched rate (issue 19).
    assert bundle.manifest["method"] == "ew"
    assert bundle.manifest["hyperparameters"]["lr"] == 0.0003
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
        name="amazon-hin", links={"co_view": 0, "same_category": 0, "same_brand": 0}, behaviors={}
    )
    assert select_auxiliary_tasks(hin, "same_brand, co_view") == ("same_brand", "co_view")
    office = SimpleNamespace(name="office", links={}, behaviors={})
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


def test_every_declared_component_is_implemented():
    """A declaration the trainer has no implementation for would only fail when used."""
    import trainer.combiners
    import trainer.data
    import trainer.encoders
    import trainer.ranking.models
    import trainer.tasks  # noqa: F401
    from shared.registry import REGISTRIES
    from trainer.registry import implementation

    for kind, registry in REGISTRIES.items():
        assert len(registry) > 0, kind
        for name in registry:
            assert callable(implementation(kind, name)), (kind, name)


# Runs trainer.fit as `python -m trainer.fit` would, then says whether torch got imported.
_TORCH_PROBE = """
import runpy, sys
sys.argv = ["trainer.fit", *sys.argv[1:]]
try:
    runpy.run_module("trainer.fit", run_name="__main__")
    code = 0
except SystemExit as stop:
    code = stop.code
print("torch imported:", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize(
    ("args", "status"),
    [(["--help"], 0), (["--method", "sgd"], 2), (["--epochs", "many"], 2)],
)
def test_help_and_argument_errors_do_not_import_torch(args, status):
    """Issue 18 item 8: --help and argument errors answer before torch is loaded."""
    result = run("-c", _TORCH_PROBE, *args)
    assert result.returncode == status, result.stderr
    assert "torch imported: False" in result.stderr
    if status == 0:
        assert "--dataset" in result.stdout


def test_ctrl_c_ends_with_one_line_exit_130_and_no_bundle(tmp_path):
    """Issue 18 item 7: SIGINT once training runs: no traceback, one line, exit 130, nothing
    written (the log line of the first epoch is the signal that training has started)."""
    from tests.jobs.conftest import write_taste_csv

    csv = write_taste_csv(tmp_path / "ratings.csv")
    out = tmp_path / "bundles" / "tiny"
    fit = ["-m", "trainer.fit", "--dataset", "csv", "--interactions", str(csv), "--no-progress"]
    budget = ["--epochs", "10000", "--patience", "10000", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, *fit, *budget],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # A guard against a hang only (the process is killed, the test fails), not a margin.
    guard = threading.Timer(600, process.kill)
    guard.start()
    try:
        seen = []
        for line in process.stderr:
            seen.append(line)
            if re.search(r" epoch +1\b", line):
                break
        else:
            raise AssertionError("training never logged an epoch:\n" + "".join(seen))
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)[::-1]
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, rest
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    after_epochs = [line for line in rest.splitlines() if " epoch " not in line]
    assert after_epochs == [
        "interrupted: stopped, no bundle written (an existing one is unchanged)"
    ]
    assert not out.exists()
    assert not (out.parent.exists() and any(out.parent.iterdir()))


def test_an_interrupt_wrapped_by_a_library_still_ends_with_exit_130(monkeypatch, capsys):
    """A Ctrl-C that lands while torch.save writes the epoch's checkpoint surfaces as the
    writer's own error raised during the unwinding: still one line and exit 130; any other
    error is not swallowed."""
    from trainer import fit

    def interrupted_while_writing(_args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("PytorchStreamWriter failed writing file") from None

    monkeypatch.setattr(fit, "_run", interrupted_while_writing)
    assert fit.main(["--dataset", "office"]) == 130
    assert capsys.readouterr().err.strip().startswith("interrupted: stopped")

    def failed(_args):
        raise RuntimeError("a real failure")

    monkeypatch.setattr(fit, "_run", failed)
    with pytest.raises(RuntimeError, match="a real failure"):
        fit.main(["--dataset", "office"])
