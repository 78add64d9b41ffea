"""Data-parallel ranker training (trainer/ranking/distributed.py) with 2 gloo ranks under
torchrun: the parameters of one process with batch 2 * B after the same steps.

One torchrun run trains every case; the single-process reference runs here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.ranking import distributed_ranks as ranks
from tests.trainer.test_distributed import RANKS, torchrun
from trainer.ranking.distributed import build_rank_trainer
from trainer.ranking.training import RankTrainer


@pytest.fixture(scope="module")
def distributed_runs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ranker-ranks")
    done = torchrun(Path(ranks.__file__), out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize(
    "model,combiner", ranks.CASES, ids=[ranks.case_name(*case) for case in ranks.CASES]
)
def test_two_ranks_with_batch_b_equal_one_process_with_batch_2b(distributed_runs, model, combiner):
    torch.set_num_threads(1)
    saved = torch.load(distributed_runs / f"{ranks.case_name(model, combiner)}.pt")
    single = RankTrainer(
        ranks.dataset(), ranks.case_config(model, combiner, RANKS * ranks.BATCH_PER_RANK)
    )
    start = {k: v.clone() for k, v in single.model.state_dict().items()}
    for epoch in range(1, ranks.EPOCHS + 1):
        single.train_epoch(epoch)

    assert saved["steps"] >= 20
    assert saved["bytes"] > 0  # the gradients went through the collectives
    moved = 0
    for name, value in single.model.state_dict().items():
        moved += (saved["state"][name] - start[name]).abs().max() > 1e-3
        assert (saved["state"][name] - value).abs().max() <= 1e-5, name
    assert moved >= len(start) // 2  # it trained
    # Rank 0's validation metrics, broadcast: the single process's.
    expected = single.evaluate("val")
    assert saved["val"] == pytest.approx(expected, abs=1e-6)


def test_one_process_gets_the_plain_trainer():
    trainer, world = build_rank_trainer(ranks.dataset(), ranks.case_config("mmoe", "ew", 8))
    assert (type(trainer), world.size, world.is_main) == (RankTrainer, 1, True)
