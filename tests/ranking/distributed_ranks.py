"""One rank of the rankers' data-parallel test, run by torchrun (not a test module itself).

    torchrun --standalone --nproc_per_node 2 tests/ranking/distributed_ranks.py OUT

Trains every case of ``CASES`` for ``EPOCHS`` epochs on a small synthetic ranking dataset
and, on rank 0, saves the parameters and the validation metrics to OUT/<model>-<combiner>.pt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from tests.ranking.conftest import make_dataset

# (model, combiner); None trains the summed loss.
CASES = [("mmoe", "ew"), ("stem", "ew"), ("mmoe", "pmtrec"), ("stem", "pmtrec"), ("mmoe", None)]
BATCH_PER_RANK = 8
EPOCHS = 2
# 257 training samples: every epoch's last global batch has one sample, so rank 0's slice of
# it is empty.
ROWS = 257


def dataset():
    return make_dataset(rows=ROWS, with_user=True)


def case_name(model: str, combiner: str | None) -> str:
    return f"{model}-{combiner or 'sum'}"


def case_config(model: str, combiner: str | None, batch_size: int):
    from trainer.ranking.training import RankTrainConfig

    return RankTrainConfig(
        model=model,
        # A large rate moves the parameters far in a few steps; alpha > 1 and a small tau make
        # PMTRec's per-row weights far from uniform.
        lr=1e-2,
        batch_size=batch_size,
        epochs=EPOCHS,
        combiner=combiner,
        combiner_options={"alpha": 1.5, "tau": 1e-2} if combiner == "pmtrec" else {},
    )


def main(out: Path) -> None:
    torch.set_num_threads(1)
    from trainer.ranking.distributed import build_rank_trainer

    data = dataset()
    for model, combiner in CASES:
        trainer, world = build_rank_trainer(
            data, case_config(model, combiner, BATCH_PER_RANK), timeout_s=60, progress=False
        )
        steps = 0
        for epoch in range(1, EPOCHS + 1):
            trainer.train_epoch(epoch)
            steps += -(-ROWS // trainer.global_batch_size)
        val = trainer.evaluate("val")
        if world.is_main:
            state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            torch.save(
                {"state": state, "val": val, "steps": steps, "bytes": trainer.bytes_per_step},
                out / f"{case_name(model, combiner)}.pt",
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
