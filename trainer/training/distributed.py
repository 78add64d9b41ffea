"""Data-parallel training with ``torch.distributed`` (torchrun; gloo on CPU, NCCL on GPUs).

    torchrun --standalone --nproc_per_node 2 -m trainer.fit --dataset office --method ew

Every rank holds the whole model and draws the same global batch of ``world * batch_size``
positives from the same seeded generator (so N ranks with batch B take the steps of one
process with batch N * B); rank r then keeps its slice of every task's batch and
differentiates only that slice.

Why the tasks' gradients are reduced before they are combined: PMTRec's per-row weights
(a softmax of each task's gradient norm on the row) are not linear in the gradients, so
averaging combined gradients across ranks would be another method. Each rank scales its task
losses by its share of the global batch (the single-process loss is a mean over it), sums each
task's row gradients over the union of the rows any rank touched, and only then combines row by
row; every rank does the same combination on the same numbers and the replicas stay equal.
Combiners that are a fixed weighting of the losses (EW, BPR) reduce the one combined gradient.

Evaluation is sharded by validation users and the per-user sums reduced; rank 0's metrics are
broadcast, so early stopping is rank 0's decision. Only rank 0 writes checkpoints (every rank
restores from the same one on --resume) and the bundle.

The DirectAU uniformity term compares the vectors of the whole batch pairwise: each rank
gathers every rank's vectors of the step (a differentiable all-gather, ``SpreadBatch``) and
computes the whole batch's term, whose gradients flow back to the vectors' ranks; each rank's
term weighs by its share as the other losses do, so the ranks' gradients add up to the one
process's and it stays exact too.
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.nn.functional as differentiable

from shared.metrics import metric_sums
from trainer.evaluation import RankingEvaluator
from trainer.tasks import TaskBatch
from trainer.tasks.alignment_uniformity import AlignmentUniformityTask
from trainer.training.checkpoint import CheckpointStore, LoopState
from trainer.training.loop import Trainer

log = logging.getLogger(__name__)

# How long a rank waits in a collective for its peers before it fails. A peer that dies is
# noticed at once (its sockets close); this bounds the wait for one that hangs. Rank 0 writes
# a checkpoint while the others wait at the next step, so it must cover a checkpoint's write.
DEFAULT_COLLECTIVE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class World:
    """This process's place in the run: rank ``rank`` of ``size`` processes."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world_from_environment() -> World:
    """The world torchrun describes in RANK / WORLD_SIZE (one process when unset)."""
    return World(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")))


def init_process_group(timeout_s: float = DEFAULT_COLLECTIVE_TIMEOUT_S) -> World:
    """Join torchrun's process group (gloo: CPU tensors) with a bounded collective timeout."""
    world = world_from_environment()
    if world.size > 1 and not dist.is_initialized():
        dist.init_process_group("gloo", timeout=timedelta(seconds=timeout_s))
        log.info("rank %d of %d joined the process group (gloo)", world.rank, world.size)
    return world


def shard_bounds(total: int, world: World) -> tuple[int, int]:
    """Rank's [start, end) of ``total`` examples: contiguous slices differing by at most one."""
    return (total * world.rank) // world.size, (total * (world.rank + 1)) // world.size


def shard_batch(batch: TaskBatch, world: World) -> tuple[TaskBatch, int, int]:
    """Rank's slice of a task's batch, its example count and the batch's total count.

    Every field of a task's batch is indexed by example along its first dimension.
    """
    tensors = [*batch.users.values(), *batch.items.values(), *batch.values.values()]
    total = len(tensors[0]) if tensors else 0
    if any(len(t) != total for t in tensors):
        raise ValueError("a task batch's fields differ in length and cannot be sharded")
    start, end = shard_bounds(total, world)

    def cut(fields: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {key: value[start:end] for key, value in fields.items()}

    return TaskBatch(cut(batch.users), cut(batch.items), cut(batch.values)), end - start, total


class GradientReducer:
    """Sums per-task gradient blocks over the ranks, counting the bytes each step sends."""

    def __init__(self, world: World):
        self.world = world
        self.bytes_sent = 0  # payload of every collective since the last ``take_bytes``
        self.steps = 0

    def _all_reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        self.bytes_sent += tensor.numel() * tensor.element_size()
        dist.all_reduce(tensor)
        return tensor

    def union_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """The sorted union of every rank's touched rows."""
        size = torch.tensor([len(rows)], dtype=torch.long)
        sizes = [torch.zeros_like(size) for _ in range(self.world.size)]
        dist.all_gather(sizes, size)
        longest = int(max(s.item() for s in sizes))
        padded = torch.full((longest,), -1, dtype=torch.long)
        padded[: len(rows)] = rows
        gathered = [torch.empty_like(padded) for _ in range(self.world.size)]
        dist.all_gather(gathered, padded)
        self.bytes_sent += size.element_size() + padded.numel() * padded.element_size()
        every = torch.cat([g[: int(s.item())] for g, s in zip(gathered, sizes)])
        return torch.unique(every)

    def reduce(
        self, rows: torch.Tensor | None, blocks: list[torch.Tensor]
    ) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
        """Sum ``blocks`` ([tasks, rows, dim] embedding rows first, then dense weights) over
        the ranks. With ``rows`` (this rank's sorted rows of the embedding block) the result
        covers the union of all ranks' rows, returned with it; without, whole tables."""
        self.steps += 1
        embedding, *dense = blocks
        union = None
        if rows is not None:
            union = self.union_rows(rows)
            full = embedding.new_zeros((embedding.shape[0], len(union), embedding.shape[2]))
            full[:, torch.searchsorted(union, rows)] = embedding
            embedding = full
        embedding = self._all_reduce(embedding.contiguous())
        return union, [embedding, *self.sum_tensors(dense)]

    def sum_tensors(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """``tensors`` summed over the ranks, in one collective for all of them."""
        if not tensors:
            return []
        flat = self._all_reduce(torch.cat([t.reshape(-1) for t in tensors]))
        return [
            part.reshape(t.shape)
            for part, t in zip(flat.split([t.numel() for t in tensors]), tensors)
        ]

    def take_bytes(self) -> tuple[int, int]:
        """(bytes sent, steps) since the last call."""
        sent, steps = self.bytes_sent, self.steps
        self.bytes_sent, self.steps = 0, 0
        return sent, steps


class SpreadBatch:
    """For a loss that is not a mean over examples (DirectAU's pairwise uniformity): every
    rank's slice of a batch, with gradients that flow back to the rank each row came from."""

    def __init__(self, reducer: GradientReducer):
        self.reducer = reducer

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        """Every rank's ``x`` (rows may differ by rank), concatenated in rank order."""
        size = torch.tensor([len(x)], dtype=torch.long)
        sizes = [torch.zeros_like(size) for _ in range(self.reducer.world.size)]
        dist.all_gather(sizes, size)
        longest = int(max(s.item() for s in sizes))
        padded = torch.cat([x, x.new_zeros((longest - len(x), *x.shape[1:]))])
        # The gather, and its backward pass's exchange of the gradients (the same shape).
        payload = padded.numel() * padded.element_size()
        self.reducer.bytes_sent += size.element_size() + 2 * payload
        parts = differentiable.all_gather(padded)
        return torch.cat([part[: int(s.item())] for part, s in zip(parts, sizes)])


class _MainRankCheckpoints(CheckpointStore):
    """Every rank restores from the run's checkpoint; only rank 0 writes it."""

    def __init__(self, store: CheckpointStore, world: World):
        super().__init__(store.folder)
        self.world = world

    def save(self, trainer: Trainer, state: LoopState) -> None:
        if self.world.is_main:
            super().save(trainer, state)

    def remove(self) -> None:
        if self.world.is_main:
            super().remove()


class DistributedTrainer(Trainer):
    """The trainer as one rank of a data-parallel run (see the module docstring)."""

    def __init__(self, *args, world: World, **kwargs):
        super().__init__(*args, **kwargs)
        self.world = world
        self.reducer = GradientReducer(world)
        for task in self.tasks:
            if isinstance(task, AlignmentUniformityTask):
                task.spread = SpreadBatch(self.reducer)
        self.bytes_per_step = 0.0  # collective payload per step in the last epoch
        if self.checkpoints is not None:
            self.checkpoints = _MainRankCheckpoints(self.checkpoints, world)
        if not world.is_main:
            self.progress = False
        # Each rank ranks its share of the users (the monitored sample, when there is one).
        sampled = self.monitor is not self.validator
        self.validator = _shard_users(self.validator, world)
        self.monitor = _shard_users(self.monitor, world) if sampled else self.validator

    @property
    def global_batch_size(self) -> int:
        return self.config.batch_size * self.world.size

    def step(self, positive_index: torch.Tensor, epoch: int) -> list[float]:
        for callback in self.callbacks:
            callback.on_step(self, epoch)
        # The global batch (same draws on every rank), then this rank's slice of each task.
        shards = [
            shard_batch(task.sample(positive_index, self.generator), self.world)
            for task in self.tasks
        ]
        (users, items), leaves, rows, batches = self._tables_and_params([s[0] for s in shards])
        batches = [b.to(self.device) for b in batches]
        # Each task's loss is a mean over its global batch: a rank's part weighs its share.
        # A task with collectives in its loss runs it on every rank, even on an empty slice.
        losses = [
            task.loss(users, items, b) * (count / total)
            if count or getattr(task, "spread", None)
            else users.sum() * 0.0
            for task, b, (_, count, total) in zip(self.tasks, batches, shards)
        ]
        dense = list(self.encoder.dense_parameters())
        wrt = (*leaves, *dense)
        per_task = self._task_gradients(losses, wrt)
        blocks = [torch.stack([torch.cat(grads[:2]) for grads in per_task])]
        blocks += [
            torch.stack([grads[2 + j].reshape(1, -1) for grads in per_task])
            for j in range(len(dense))
        ]
        num_users = self.encoder.user_embedding.shape[0]
        local_rows = None if rows[0] is None else torch.cat([rows[0], rows[1] + num_users])
        union, blocks = self.reducer.reduce(local_rows, blocks)
        if self.combiner.needs_task_gradients:
            combined, *dense_grads = self.combiner.combine_blocks(blocks, epoch)
        else:
            combined, *dense_grads = [block[0] for block in blocks]
        tables = (self.encoder.user_embedding, self.encoder.item_embedding)
        if union is None:
            tables[0].grad, tables[1].grad = combined[:num_users], combined[num_users:]
        else:
            split = int((union < num_users).sum())
            for param, grad, row_index in zip(
                tables,
                (combined[:split], combined[split:]),
                (union[:split], union[split:] - num_users),
            ):
                param.grad = self._scatter_rows(param, row_index, grad)
        for param, grad in zip(dense, dense_grads):
            param.grad = grad.reshape(param.shape)
        self.optimizer.step()
        values = torch.stack([loss.detach() for loss in losses])
        dist.all_reduce(values)
        return values.tolist()

    def train_epoch(self, epoch: int) -> dict[str, float]:
        losses = super().train_epoch(epoch)
        sent, steps = self.reducer.take_bytes()
        self.bytes_per_step = sent / steps if steps else 0.0  # for benchmarks
        if self.world.is_main and steps:
            log.info(
                "epoch %d: %d ranks sent %.1f KiB per step each (collective payload, %s)",
                epoch,
                self.world.size,
                sent / steps / 1024,
                self.config.method,
            )
        return losses

    def validate(self, every_user: bool = False) -> dict[str, float]:
        """Each rank ranks its share of the users; the sums are reduced, rank 0's broadcast."""
        evaluator = self.validator if every_user else self.monitor
        local = super().validate(every_user) if len(evaluator.users) else {}
        # Names from the metrics module, so a rank without users still sends every metric.
        empty = np.zeros((0, max(evaluator.ks)), dtype=bool)
        keys = sorted(metric_sums(empty, np.zeros(0, dtype=np.int64), evaluator.ks))
        count = float(len(evaluator.users))
        values = torch.tensor(
            [local.get(k, 0.0) * count for k in keys] + [count], dtype=torch.float64
        )
        dist.all_reduce(values)
        dist.broadcast(values, src=0)
        total = values[-1].item()
        return {k: (v / total if total else 0.0) for k, v in zip(keys, values[:-1].tolist())}


def _shard_users(evaluator: RankingEvaluator, world: World) -> RankingEvaluator:
    """The evaluator restricted to every ``world.size``-th user from ``world.rank``."""
    shard = copy.copy(evaluator)
    shard.users = evaluator.users[world.rank :: world.size]
    shard.num_relevant = evaluator.num_relevant[world.rank :: world.size]
    return shard


def build_trainer(
    dataset,
    config,
    timeout_s: float = DEFAULT_COLLECTIVE_TIMEOUT_S,
    **kwargs,
) -> tuple[Trainer, World]:
    """A ``Trainer``, or under torchrun (WORLD_SIZE > 1) this rank's ``DistributedTrainer``."""
    world = init_process_group(timeout_s)
    if world.size == 1:
        return Trainer(dataset, config, **kwargs), world
    if config.main_task != "bpr":
        from trainer.training.config import ConfigError

        raise ConfigError(
            f"main_task {config.main_task} scores each positive against the whole step's "
            "items, which the ranks' slices do not hold: train it in one process"
        )
    if not world.is_main:  # one log for the run: the other ranks report only problems
        logging.getLogger("trainer").setLevel(logging.WARNING)
    return DistributedTrainer(dataset, config, world=world, **kwargs), world
