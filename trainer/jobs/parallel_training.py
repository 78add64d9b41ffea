"""A train job on N data-parallel processes (``PMTREC_WORKER_TRAIN_PROCESSES`` > 1).

The worker process stays the job's owner: it keeps the heartbeat thread, the cancellation
checks and the database work, and supervises N spawned ranks that train with
``trainer.training.distributed`` over gloo on this host. Rank 0 sends its epoch progress and
log lines back over a queue (so the job's progress and log tail read as in one process),
writes the per-epoch checkpoints to the job's folder (a re-queued attempt resumes from them)
and, at the end, the trained result, which the worker exports as usual.

A rank that fails fails the job: ``ProcessContext.join`` raises and terminates the other
ranks (which a dead peer would otherwise leave blocked in a collective until the timeout). A
cancellation or a lost claim terminates every rank at the worker's next poll.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import torch
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessException

from trainer.data import RecDataset
from trainer.jobs.context import JobContext, JobFailure
from trainer.training import CheckpointMismatch, CheckpointStore, TrainConfig, TrainingCallback
from trainer.training.loop import EpochRecord, Trainer, TrainResult

log = logging.getLogger("trainer.jobs.train")

RESULT_FILE = "result.pt"
# How often the worker looks at its ranks, their progress and the job's cancellation.
POLL_SECONDS = 0.2
# Collective timeout of a job's ranks: bounds a hung (not dead) rank; a dead one is seen at once.
COLLECTIVE_TIMEOUT_S = 300.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _QueueLog(logging.Handler):
    """Rank 0's log records, formatted, to the worker."""

    def __init__(self, queue: Any) -> None:
        super().__init__(logging.INFO)
        self.queue = queue

    def emit(self, record: logging.LogRecord) -> None:
        self.queue.put(("log", record.getMessage()))


class _QueueProgress(TrainingCallback):
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self.queue.put(("progress", record.epoch / trainer.config.epochs))


def _train_rank(
    rank: int,
    size: int,
    port: int,
    dataset: RecDataset,
    config: TrainConfig,
    folder: str,
    queue: Any,
) -> None:
    """One rank (a spawned process): train, and on rank 0 save the result for the worker."""
    from trainer.training.distributed import build_trainer

    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(size)
    )
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // size))
    callbacks: list[TrainingCallback] = []
    if rank == 0:
        trainer_log = logging.getLogger("trainer")
        trainer_log.setLevel(logging.INFO)
        trainer_log.addHandler(_QueueLog(queue))
        callbacks.append(_QueueProgress(queue))
    checkpoints = CheckpointStore(Path(folder))
    trainer, world = build_trainer(
        dataset,
        config,
        COLLECTIVE_TIMEOUT_S,
        progress=False,
        callbacks=callbacks,
        checkpoints=checkpoints,
    )
    try:
        result = trainer.fit()
    except CheckpointMismatch as mismatch:  # every rank read the same file
        import torch.distributed as dist

        log.warning("%s; training from the first epoch", mismatch)
        dist.barrier()
        if world.is_main:
            checkpoints.path.unlink(missing_ok=True)
        dist.barrier()
        result = trainer.fit()
    if world.is_main:
        partial = Path(folder) / f".{RESULT_FILE}.{os.getpid()}"
        torch.save(result, partial)
        os.replace(partial, Path(folder) / RESULT_FILE)


def train_on_processes(
    context: JobContext,
    dataset: RecDataset,
    config: TrainConfig,
    folder: Path,
    processes: int,
) -> TrainResult:
    """Train on ``processes`` ranks under this worker's supervision; the best model back."""
    (folder / RESULT_FILE).unlink(missing_ok=True)
    spawn = mp.get_context("spawn")
    queue = spawn.SimpleQueue()
    log.info("training on %d data-parallel processes (gloo)", processes)
    ranks = mp.start_processes(
        _train_rank,
        args=(processes, _free_port(), dataset, config, str(folder), queue),
        nprocs=processes,
        join=False,
        start_method="spawn",
    )
    try:
        done = False
        while not done:
            try:
                done = ranks.join(timeout=POLL_SECONDS)
            except ProcessException as error:  # the others were terminated by join
                raise JobFailure(f"a training process failed: {error}".strip()) from error
            finally:
                _drain(queue, context)
            context.check_cancelled()
    finally:
        for process in ranks.processes:
            if process.is_alive():
                process.terminate()
        for process in ranks.processes:
            process.join(30)
    result: TrainResult = torch.load(folder / RESULT_FILE, weights_only=False)
    (folder / RESULT_FILE).unlink(missing_ok=True)
    return result


def _drain(queue: Any, context: JobContext) -> None:
    while not queue.empty():
        kind, value = queue.get()
        if kind == "progress":
            context.report(value)
        else:
            log.info("%s", value)
