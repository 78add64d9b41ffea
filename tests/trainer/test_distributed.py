"""Data-parallel training (trainer/training/distributed.py) with 2 gloo ranks under torchrun.

One torchrun run trains every case; the single-process reference with batch 2 * B runs here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import make_tiny_dataset
from tests.trainer import distributed_ranks as ranks
from trainer.training import Trainer

REPO = Path(__file__).resolve().parents[2]
RANKS = 2
# Generous: only a hang (a rank waiting forever for a dead peer) runs past it.
HANG_S = 240


def torchrun(script: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node RANKS script out extra...``, hang-guarded."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc_per_node={RANKS}", str(script), str(out), *extra]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=HANG_S
    )


@pytest.fixture(scope="module")
def distributed_runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ranks")
    done = torchrun(Path(ranks.__file__), out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize(
    "method,encoder,auxiliary", ranks.CASES, ids=[ranks.case_name(*case) for case in ranks.CASES]
)
def test_two_ranks_with_batch_b_equal_one_process_with_batch_2b(
    distributed_runs, method, encoder, auxiliary
):
    torch.set_num_threads(1)
    saved = torch.load(distributed_runs / f"{ranks.case_name(method, encoder, auxiliary)}.pt")
    dataset = make_tiny_dataset()
    config = ranks.case_config(method, encoder, auxiliary, RANKS * ranks.BATCH_PER_RANK)
    single = Trainer(dataset, config, progress=False)
    start = {k: v.clone() for k, v in single.encoder.state_dict().items()}
    for epoch in range(1, ranks.EPOCHS + 1):
        single.train_epoch(epoch)

    assert saved["steps"] >= 20
    for name, value in single.encoder.state_dict().items():
        assert (saved["state"][name] - start[name]).abs().max() > 1e-3  # it trained
        assert (saved["state"][name] - value).abs().max() <= 1e-5, name
    # Validation sharded by users and reduced: the single process's metrics.
    expected = single.validate()
    assert saved["val"].keys() == expected.keys()
    for key, value in expected.items():
        assert saved["val"][key] == pytest.approx(value, abs=1e-9), key


def test_a_rank_that_raises_fails_the_run_instead_of_hanging(tmp_path):
    started = time.monotonic()
    done = torchrun(Path(ranks.__file__), tmp_path, "3")
    assert done.returncode != 0
    assert "rank 1 fails on purpose at step 3" in done.stdout + done.stderr
    assert time.monotonic() - started < HANG_S
    assert not list(tmp_path.glob("*.pt"))  # rank 0 never finished a case
