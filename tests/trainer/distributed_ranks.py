"""One rank of the data-parallel tests, run by torchrun (not a test module itself).

    torchrun --standalone --nproc_per_node 2 tests/trainer/distributed_ranks.py OUT [FAIL_STEP]

Trains every case of ``CASES`` for three epochs on the tiny dataset and, on rank 0, saves the
parameters and the sharded validation metrics to OUT/<case_name>.pt. With FAIL_STEP,
rank 1 raises before that step instead (the run must then fail, not hang).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from tests.conftest import make_tiny_dataset

# (method, encoder, auxiliary tasks); DirectAU's pairwise uniformity needs collectives.
CASES = [(m, e, ("rating",)) for m in ("pmtrec", "ew", "pcgrad") for e in ("mf", "lightgcn")]
CASES += [("pmtrec", "mf", ("align_uniform", "rating")), ("ew", "lightgcn", ("align_uniform",))]
BATCH_PER_RANK = 8
EPOCHS = 3


def case_name(method: str, encoder: str, auxiliary: tuple[str, ...]) -> str:
    return "-".join((method, encoder, *auxiliary))


def case_config(method: str, encoder: str, auxiliary: tuple[str, ...], batch_size: int):
    from trainer.training import TrainConfig

    return TrainConfig(
        method=method,
        encoder=encoder,
        dim=8,
        layers=2,
        # alpha > 1 and a small tau make PMTRec's per-row weights far from uniform.
        alpha=1.5,
        tau=1e-2,
        batch_size=batch_size,
        epochs=EPOCHS,
        auxiliary_tasks=auxiliary,
        device="cpu",
    )


class StepCounter:
    """Counts steps; on rank 1 raises before step ``fail_step`` when one is given."""

    def __init__(self, rank: int, fail_step: int | None):
        self.rank, self.fail_step, self.steps = rank, fail_step, 0

    def on_step(self, trainer, epoch: int) -> None:
        self.steps += 1
        if self.rank == 1 and self.fail_step == self.steps:
            raise RuntimeError(f"rank 1 fails on purpose at step {self.steps}")

    def on_epoch_end(self, trainer, record) -> None:
        pass


def main(out: Path, fail_step: int | None) -> None:
    torch.set_num_threads(1)
    from trainer.training.distributed import build_trainer

    dataset = make_tiny_dataset()
    for method, encoder, auxiliary in CASES:
        config = case_config(method, encoder, auxiliary, BATCH_PER_RANK)
        trainer, world = build_trainer(dataset, config, timeout_s=60, progress=False)
        world_counter = StepCounter(world.rank, fail_step)
        trainer.callbacks.append(world_counter)
        for epoch in range(1, EPOCHS + 1):
            trainer.train_epoch(epoch)
        val = trainer.validate()
        if world.is_main:
            state = {k: v.detach().clone() for k, v in trainer.encoder.state_dict().items()}
            torch.save(
                {"state": state, "val": val, "steps": world_counter.steps},
                out / f"{case_name(method, encoder, auxiliary)}.pt",
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
