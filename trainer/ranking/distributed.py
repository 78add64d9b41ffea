"""Data-parallel ranker training with ``torch.distributed`` (torchrun; gloo on CPU).

    torchrun --standalone --nproc_per_node 2 -m trainer.rank --dataset census --model mmoe

As in the retrieval trainer (trainer/training/distributed.py): every rank holds the whole ranker
and shuffles the training samples with the same seeded generator, so N ranks with batch B take
the steps of one process with batch N * B; rank r differentiates its contiguous slice of each
global batch, each task's loss weighted by the slice's share of the batch (the one-process loss
is a mean over it).

- Without a combiner, or with one that weights the losses (EW): the weighted loss's gradients
  are summed over the ranks in one collective, then every rank adds the embedding L2 term.
- With a combiner of the tasks' gradients (PMTRec, PCGrad, ...): each task's gradients on the
  shared parameters (the feature-embedding rows, over the union of the rows any rank touched,
  and the shared modules) are summed over the ranks and only then combined
  (trainer/ranking/combined.py); PMTRec's per-row weights are not linear in the gradients, so
  combining each rank's part and averaging would be another method.
- Validation and test: rank 0 scores them and broadcasts the metrics, so early stopping (and
  the best epoch every rank restores) is rank 0's decision. Only rank 0 writes the bundle.

Exact (the single process's parameters, up to float rounding) for every ranker whose loss is
a mean over samples and whose backward is the plain one, without dropout (each rank would draw
its own masks). Not data-parallel: rankers that shape their own gradients (DRGrad: its updater
averages the router's per-sample decisions over the batch); they are refused.
"""

from __future__ import annotations

import logging

import torch
import torch.distributed as dist

from trainer.ranking.combined import combined_backward
from trainer.ranking.models import Ranker
from trainer.ranking.samples import RankingDataset
from trainer.ranking.training import RankTrainConfig, RankTrainer
from trainer.training.distributed import (
    DEFAULT_COLLECTIVE_TIMEOUT_S,
    GradientReducer,
    World,
    init_process_group,
    shard_bounds,
)

log = logging.getLogger(__name__)


class RankSlice:
    """This rank's slice of one global batch: its share, and the sums over the ranks."""

    def __init__(self, reducer: GradientReducer, count: int, total: int):
        self.reducer = reducer
        self.count = count
        self.share = count / total

    def weigh(self, losses: list[torch.Tensor]) -> list[torch.Tensor]:
        # An empty slice's mean is NaN; it adds nothing (its gradients are empty sums).
        return [loss * self.share if self.count else loss.nan_to_num() * 0.0 for loss in losses]

    def sum_backward(self, model: Ranker, loss: torch.Tensor) -> None:
        """Back-propagate this rank's part of ``loss``, sum every gradient over the ranks,
        then add the L2 term's (the same on every rank, so not summed)."""
        loss.backward()
        params = [p for p in model.parameters() if p.requires_grad]
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        for param, grad in zip(params, self.reducer.sum_tensors(grads)):
            param.grad = grad
        model.regularization().backward()


class DistributedRankTrainer(RankTrainer):
    """The ranker's trainer as one rank of a data-parallel run (see the module docstring)."""

    def __init__(self, *args, world: World, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.model.accepts_combiner:
            raise ValueError(
                f"model '{self.config.model}' shapes its own gradients from the whole batch "
                "and is not trained data-parallel; run it in one process"
            )
        self.world = world
        self.reducer = GradientReducer(world)
        self.bytes_per_step = 0.0  # collective payload per step in the last epoch
        if not world.is_main:
            self.progress = False

    @property
    def global_batch_size(self) -> int:
        return self.config.batch_size * self.world.size

    def step(
        self, categorical: torch.Tensor, numeric: torch.Tensor, labels: torch.Tensor, epoch: int
    ) -> list[float]:
        start, end = shard_bounds(len(labels), self.world)
        ranks = RankSlice(self.reducer, end - start, len(labels))
        categorical, numeric, labels = categorical[start:end], numeric[start:end], labels[start:end]
        self.optimizer.zero_grad(set_to_none=True)
        if self.combiner is None:
            losses = self.model.task_losses(self.model(categorical, numeric), labels)
            ranks.sum_backward(self.model, sum(ranks.weigh(losses)))
            values = [loss.item() for loss in losses]
        else:
            values = combined_backward(
                self.model, self.combiner, categorical, numeric, labels, epoch, ranks=ranks
            )
        self.optimizer.step()
        # The global batch's mean losses, for the epoch's report.
        shares = torch.tensor(values if ranks.count else [0.0] * len(values), dtype=torch.float64)
        shares *= ranks.share
        dist.all_reduce(shares)
        return shares.tolist()

    def train_epoch(self, epoch: int) -> dict[str, float]:
        losses = super().train_epoch(epoch)
        sent, _ = self.reducer.take_bytes()
        steps = -(-len(self.train_tensors[2]) // self.global_batch_size)
        self.bytes_per_step = sent / steps if steps else 0.0
        if self.world.is_main and steps:
            log.info(
                "epoch %d: %d ranks sent %.1f KiB per step each (collective payload, %s)",
                epoch,
                self.world.size,
                self.bytes_per_step / 1024,
                self.config.combiner or "summed loss",
            )
        return losses

    def evaluate(self, split: str) -> dict[str, float]:
        """Rank 0 scores the split; every rank gets its metrics (and so its decisions)."""
        metrics = [super().evaluate(split) if self.world.is_main else None]
        dist.broadcast_object_list(metrics, src=0)
        return {k: float(v) for k, v in metrics[0].items()}


def build_rank_trainer(
    dataset: RankingDataset,
    config: RankTrainConfig,
    timeout_s: float = DEFAULT_COLLECTIVE_TIMEOUT_S,
    **kwargs,
) -> tuple[RankTrainer, World]:
    """A ``RankTrainer``, or under torchrun (WORLD_SIZE > 1) this rank's data-parallel one."""
    world = init_process_group(timeout_s)
    if world.size == 1:
        return RankTrainer(dataset, config, **kwargs), world
    if not world.is_main:  # one log for the run: the other ranks report only problems
        logging.getLogger("trainer").setLevel(logging.WARNING)
    return DistributedRankTrainer(dataset, config, world=world, **kwargs), world
