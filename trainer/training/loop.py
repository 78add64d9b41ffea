"""The training loop: per-task losses, per-row gradient combination, Adam, early stopping."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from shared.registry import COMBINERS as DECLARED_COMBINERS
from trainer.combiners import COMBINERS, GradientCombiner, build_combiner
from trainer.data import RecDataset
from trainer.encoders import Encoder, build_encoder
from trainer.evaluation import RankingEvaluator
from trainer.tasks import Task, TaskBatch, build_tasks
from trainer.training.callbacks import TrainingCallback
from trainer.training.checkpoint import CheckpointStore, LoopState
from trainer.training.config import ConfigError, TrainConfig
from trainer.training.early_stopping import best_epoch, should_stop
from trainer.training.row_sparse_adam import RowSparseAdam, row_gradient
from trainer.training.time_left import time_left

log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but CUDA is not available here")
    return torch.device(name)


@dataclass
class EpochRecord:
    epoch: int
    losses: dict[str, float]
    val: dict[str, float]
    seconds: float


@dataclass
class TrainResult:
    encoder: Encoder
    config: TrainConfig
    best_epoch: int
    val_metrics: dict[str, float]
    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    task_names: list[str] = field(default_factory=list)


def _compact(
    batches: list[TaskBatch], side: str
) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Unique rows of one table touched by all batches, and each batch's fields remapped."""
    fields = [getattr(b, side) for b in batches]
    flat = [t.reshape(-1) for f in fields for t in f.values()]
    if not flat:
        return torch.empty(0, dtype=torch.long), fields
    rows, inverse = torch.unique(torch.cat(flat), return_inverse=True)
    remapped, offset = [], 0
    for f in fields:
        new = {}
        for key, tensor in f.items():
            new[key] = inverse[offset : offset + tensor.numel()].reshape(tensor.shape)
            offset += tensor.numel()
        remapped.append(new)
    return rows, remapped


class Trainer:
    """Trains an encoder on a dataset's tasks with a gradient combiner.

    ``callbacks`` observe the loop (progress, cancellation); ``checkpoints`` makes it
    restart-safe: the state is saved after every epoch, and ``fit`` resumes from a checkpoint
    found there.
    """

    def __init__(
        self,
        dataset: RecDataset,
        config: TrainConfig,
        progress: bool = True,
        callbacks: Sequence[TrainingCallback] = (),
        checkpoints: CheckpointStore | None = None,
    ):
        self.dataset = dataset
        self.config = config
        self.progress = progress
        self.callbacks = list(callbacks)
        self.checkpoints = checkpoints
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)
        values = config.hyperparameters()
        self.encoder = build_encoder(config.encoder, dataset, config.dim, self.generator, values)
        if config.init == "als":
            from trainer.baselines.warm_start import initialise_from_als

            initialise_from_als(self.encoder, dataset, config)
        self.encoder = self.encoder.to(self.device)
        uses_auxiliary = COMBINERS[config.method].uses_auxiliary_tasks
        auxiliary = config.auxiliary_tasks if uses_auxiliary else ()
        self.tasks: list[Task] = build_tasks(dataset, auxiliary, values)
        # Every random draw of a combiner (PCGrad's orders, RLW's weights, ...) comes from the
        # run's seeded generator.
        self.combiner: GradientCombiner = build_combiner(
            config.method,
            num_tasks=len(self.tasks),
            generator=self.generator,
            **{name: values[name] for name in DECLARED_COMBINERS.get(config.method).param_names()},
        )
        # The fused kernel is the same Adam (equal up to float rounding) and on CPU several
        # times faster than the per-tensor loop: it matters on 300k-row item tables, which
        # Adam updates in full every step.
        self.optimizer = self._build_optimizer()
        # Row-local steps scatter their rows' gradients into one reused zero table per
        # embedding; only the rows written by the previous step are cleared again.
        self._row_grads: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
        self.num_positives = len(dataset.train_positive)
        exclude = dataset.excluded_csr(config.eval_exclude)
        self.validator = RankingEvaluator(
            dataset.positives("val"), *exclude, dataset.num_items, ks=config.eval_ks
        )
        # What early stopping watches each epoch: every validation user, or a fixed sample.
        self.monitor = (
            self.validator.sample(config.val_users, config.seed)
            if config.val_users
            else self.validator
        )

    def _build_optimizer(self):
        fused = self.device.type in ("cpu", "cuda")
        if self.config.optimizer == "row_sparse_adam":
            tables = [self.encoder.user_embedding, self.encoder.item_embedding]
            dense = list(self.encoder.dense_parameters())
            return RowSparseAdam(tables, dense, self.config.lr, fused)
        return torch.optim.Adam(
            self.encoder.parameters(),
            lr=self.config.lr,
            weight_decay=self.config.weight_decay,
            fused=fused,
        )

    # -- one step -------------------------------------------------------------------------
    def _tables_and_params(self, batches: list[TaskBatch]):
        """Vectors the tasks read, the leaf tensors to differentiate, and where they live.

        Row-local encoders (MF) are differentiated through the rows the step touches only;
        others through their whole tables.
        """
        encoder = self.encoder
        if encoder.row_local:
            user_rows, user_fields = _compact(batches, "users")
            item_rows, item_fields = _compact(batches, "items")
            user_rows, item_rows = user_rows.to(self.device), item_rows.to(self.device)
            users = encoder.user_embedding.detach()[user_rows].requires_grad_()
            items = encoder.item_embedding.detach()[item_rows].requires_grad_()
            batches = [
                TaskBatch(u, i, b.values) for u, i, b in zip(user_fields, item_fields, batches)
            ]
            return encoder(users, items), (users, items), (user_rows, item_rows), batches
        params = (encoder.user_embedding, encoder.item_embedding)
        return encoder(*params), params, (None, None), batches

    def _task_gradients(
        self, losses: list[torch.Tensor], wrt: tuple[torch.Tensor, ...]
    ) -> list[tuple[torch.Tensor, ...]]:
        """Each task's gradients with respect to ``wrt`` when the combiner combines them;
        otherwise one entry, the gradients of the combiner's weighted sum of the losses."""
        if self.combiner.needs_task_gradients:
            return [
                torch.autograd.grad(
                    loss,
                    wrt,
                    retain_graph=i < len(losses) - 1,
                    allow_unused=True,
                    materialize_grads=True,
                )
                for i, loss in enumerate(losses)
            ]
        weights = self.combiner.loss_weights(len(losses))
        total = sum(w * loss for w, loss in zip(weights, losses) if w != 0)
        return [torch.autograd.grad(total, wrt, allow_unused=True, materialize_grads=True)]

    def step(self, positive_index: torch.Tensor, epoch: int) -> list[float]:
        for callback in self.callbacks:
            callback.on_step(self, epoch)
        batches = [task.sample(positive_index, self.generator) for task in self.tasks]
        (users, items), leaves, rows, batches = self._tables_and_params(batches)
        batches = [b.to(self.device) for b in batches]
        losses = [task.loss(users, items, b) for task, b in zip(self.tasks, batches)]
        dense = list(self.encoder.dense_parameters())
        wrt = (*leaves, *dense)

        per_task = self._task_gradients(losses, wrt)
        if self.combiner.needs_task_gradients:
            # Blocks: embedding rows [tasks, rows, dim]; each dense parameter as one row.
            blocks = [torch.stack([torch.cat(grads[:2]) for grads in per_task])]
            blocks += [
                torch.stack([grads[2 + j].reshape(1, -1) for grads in per_task])
                for j in range(len(dense))
            ]
            combined, *dense_grads = self.combiner.combine_blocks(blocks, epoch)
        else:
            grads = per_task[0]
            combined, dense_grads = torch.cat(grads[:2]), grads[2:]

        split = leaves[0].shape[0]
        for param, grad, row_index in zip(
            (self.encoder.user_embedding, self.encoder.item_embedding),
            (combined[:split], combined[split:]),
            rows,
        ):
            if row_index is None:
                param.grad = grad
            else:
                param.grad = self._scatter_rows(param, row_index, grad)
        for param, grad in zip(dense, dense_grads):
            param.grad = grad.reshape(param.shape)
        self.optimizer.step()
        return [loss.item() for loss in losses]

    def _scatter_rows(
        self, param: torch.Tensor, rows: torch.Tensor, grad: torch.Tensor
    ) -> torch.Tensor:
        """A full-size gradient that is ``grad`` on ``rows`` and zero elsewhere."""
        if self.config.optimizer == "row_sparse_adam":  # only the rows, as a sparse tensor
            return row_gradient(param, rows, grad, self.config.weight_decay)
        buffer, written = self._row_grads.get(id(param), (None, None))
        if buffer is None:
            buffer = torch.zeros_like(param)
        elif written is not None:
            buffer.index_fill_(0, written, 0.0)
        buffer.index_copy_(0, rows, grad)
        self._row_grads[id(param)] = (buffer, rows)
        return buffer

    # -- epochs ---------------------------------------------------------------------------
    @property
    def global_batch_size(self) -> int:
        """Positives per step over every process (a data-parallel run's ranks share a step)."""
        return self.config.batch_size

    def train_epoch(self, epoch: int) -> dict[str, float]:
        order = torch.randperm(self.num_positives, generator=self.generator)
        chunks = order.split(self.global_batch_size)
        sums = [0.0] * len(self.tasks)
        bar = tqdm(
            chunks,
            desc=f"epoch {epoch}",
            leave=False,
            disable=None if self.progress else True,
            unit="batch",
        )
        for chunk in bar:
            for i, value in enumerate(self.step(chunk, epoch)):
                sums[i] += value
        return {task.name: total / len(chunks) for task, total in zip(self.tasks, sums)}

    def validate(self, every_user: bool = False) -> dict[str, float]:
        """Validation metrics of the current model: on the monitored users, or on all."""
        self.encoder.eval()
        users, items = self.encoder.final_vectors()
        self.encoder.train()
        return (self.validator if every_user else self.monitor).evaluate(users, items)

    def fit(self) -> TrainResult:
        config = self.config
        log.info(
            "training %s on %s: encoder=%s combiner=%r tasks=%s device=%s",
            config.method,
            self.dataset.name,
            config.encoder,
            self.combiner,
            [t.name for t in self.tasks],
            self.device,
        )
        started = time.perf_counter()
        state = LoopState(best_state=copy.deepcopy(self.encoder.state_dict()))
        if self.checkpoints is not None and self.checkpoints.exists():
            state = self.checkpoints.restore(self)
        earlier_seconds = state.seconds  # epochs trained before a restart
        history, monitored = state.history, state.monitored
        first = state.epoch + 1 if not state.stopped else config.epochs + 1
        for epoch in range(first, config.epochs + 1):
            epoch_start = time.perf_counter()
            losses = self.train_epoch(epoch)
            val = self.validate()
            record = EpochRecord(epoch, losses, val, time.perf_counter() - epoch_start)
            history.append(record)
            monitored.append(val[config.monitor])
            improved = best_epoch(monitored) == epoch
            if improved:
                state.best_state = copy.deepcopy(self.encoder.state_dict())
            log.info(
                "epoch %3d/%d | %s | val recall@20 %.4f ndcg@20 %.4f%s | %.2fs, left %s",
                epoch,
                config.epochs,
                " ".join(f"{k} {v:.4f}" for k, v in losses.items()),
                val["recall@20"],
                val["ndcg@20"],
                " *" if improved else "",
                record.seconds,
                time_left(
                    epoch,
                    config.epochs,
                    best_epoch(monitored),
                    config.patience,
                    time.perf_counter() - started,
                ),
            )
            stop = should_stop(monitored, config.patience)
            state.epoch, state.stopped = epoch, stop or epoch == config.epochs
            state.seconds += record.seconds
            if self.checkpoints is not None:
                self.checkpoints.save(self, state)
            for callback in self.callbacks:
                callback.on_epoch_end(self, record)
            if stop:
                log.info(
                    "early stop: no %s improvement for %d epochs", config.monitor, config.patience
                )
                break
        best_state = state.best_state
        self.encoder.load_state_dict(best_state)
        best = best_epoch(monitored)
        val_metrics = history[best - 1].val
        if self.monitor is not self.validator:
            val_metrics = self.validate(every_user=True)
            log.info(
                "best epoch %d on all %d validation users: recall@20 %.4f ndcg@20 %.4f "
                "(monitored sample of %d: %.4f)",
                best,
                len(self.validator.users),
                val_metrics["recall@20"],
                val_metrics["ndcg@20"],
                len(self.monitor.users),
                history[best - 1].val["recall@20"],
            )
        return TrainResult(
            encoder=self.encoder,
            config=config,
            best_epoch=best,
            val_metrics=val_metrics,
            history=history,
            seconds=earlier_seconds + time.perf_counter() - started,
            device=str(self.device),
            task_names=[task.name for task in self.tasks],
        )
