"""Training runs: one record per (dataset, TrainConfig), stored as JSON lines and reused.

A run trains one configuration (its seed included) with early stopping on validation
Recall@20, then scores the best epoch's model on the test split. Its record (config, seed,
best epoch, validation and test metrics, the per-epoch validation Recall@20 curve, seconds) is
appended to ``runs.jsonl`` as soon as it finishes, keyed by the configuration's JSON plus the
dataset name. Every artefact asks the executor for the configurations it needs; those already
recorded are reused, so an interrupted command resumes where it stopped and artefacts share
runs (``curves`` reuses ``table2``'s tuning runs, ...).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.registry import COMBINERS
from trainer.data import RecDataset
from trainer.experiments.sources import DatasetSource
from trainer.training import TrainConfig

log = logging.getLogger(__name__)

Record = dict[str, Any]
Progress = Callable[[str], None]


def own_hyperparameters(method: str) -> tuple[str, ...]:
    """The hyper-parameters a method has of its own, as declared (shown in progress lines and
    tables); none for a method that is not declared."""
    return COMBINERS.get(method).param_names() if method in COMBINERS else ()


def run_key(dataset: str, config: TrainConfig | dict[str, Any]) -> str:
    """The identity of a run: the dataset and every hyper-parameter (seed included).

    A stored configuration lacking a field added since takes that field's default, so
    recorded runs keep their identity when TrainConfig grows.
    """
    return json.dumps({"dataset": dataset, **TrainConfig.recorded(config)}, sort_keys=True)


def describe(config: TrainConfig) -> str:
    """A short human label: method, encoder, lr, weight decay, own values, tasks, seed."""
    own = " ".join(f"{k}={getattr(config, k):g}" for k in own_hyperparameters(config.method))
    tasks = "+".join(("bpr", *config.auxiliary_tasks)) if config.method != "bpr" else "bpr"
    return (
        f"{config.method}/{config.encoder} lr={config.lr:g} wd={config.weight_decay:g}"
        f"{' ' + own if own else ''} tasks={tasks} seed={config.seed}"
    )


def expected_cost(config: TrainConfig) -> float:
    """A rough relative run time, to start the longest runs first so that no worker is left
    alone with a long run at the end: epochs grow as the learning rate falls (Office: ~30 at
    lr 0.005, ~100 at 0.001); BPR alone costs about a sixth of a multi-task epoch, graph
    encoders about twice an MF one."""
    per_epoch = 0.15 if config.method == "bpr" else 1.0
    per_epoch *= 1.0 if config.encoder == "mf" else 2.0
    return per_epoch / config.lr


def train_and_test(dataset: RecDataset, config: TrainConfig) -> Record:
    """Train one configuration and score its best epoch on the test split."""
    from trainer.evaluation import RankingEvaluator
    from trainer.training import Trainer

    result = Trainer(dataset, config, progress=False).fit()
    result.encoder.eval()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"),
        *dataset.excluded_csr(config.eval_exclude),
        dataset.num_items,
        ks=config.eval_ks,
    ).evaluate(users, items)
    return {
        "key": run_key(dataset.name, config),
        "dataset": dataset.name,
        "config": config.hyperparameters(),
        "seed": config.seed,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "val": result.val_metrics,
        "test": test,
        "curve": [record.val[config.monitor] for record in result.history],
        "seconds": round(result.seconds, 2),
        "device": result.device,
    }


# One dataset per worker process, loaded by its first run and kept for the next ones.
_LOADED: dict[str, RecDataset] = {}


def _run_in_worker(job: tuple[DatasetSource, TrainConfig]) -> Record:
    import torch

    torch.set_num_threads(1)
    source, config = job
    if source.name not in _LOADED:
        _LOADED.clear()
        _LOADED[source.name] = source.load()
    return train_and_test(_LOADED[source.name], config)


class RunStore:
    """The JSON-lines file of finished runs, read once and appended to as runs finish."""

    def __init__(self, path: Path):
        self.path = path
        self.records: dict[str, Record] = {}
        if path.exists():
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    # A line cut short by a killed process: that run simply runs again.
                    log.warning("%s:%d is not valid JSON; ignored", path, number)
                    continue
                self.records[run_key(record["dataset"], record["config"])] = record

    def get(self, key: str) -> Record | None:
        return self.records.get(key)

    def add(self, record: Record) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(json.dumps(record, sort_keys=True) + "\n")
        self.records[record["key"]] = record


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RunExecutor:
    """Runs the configurations not recorded yet, in spawned one-thread worker processes.

    ``workers=0`` runs in this process (tests); otherwise a ``spawn`` pool of ``workers``
    processes, each with ``torch.set_num_threads(1)``. Prints a line per finished run with
    the count done/total of this invocation's plan and an ETA.
    """

    def __init__(
        self,
        source: DatasetSource,
        store: RunStore,
        workers: int = 2,
        progress: Progress = print_progress,
    ):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.source = source
        self.store = store
        self.workers = workers
        self.progress = progress
        self.planned = 0
        self.new_runs = 0
        self.reused = 0
        self._counted: set[str] = set()
        self._busy_seconds = 0.0

    @property
    def done(self) -> int:
        return len(self._counted)

    def expect(self, total: int) -> None:
        """The number of runs this invocation's artefact plans (for done/total and the ETA)."""
        self.planned = total

    def _count(self, key: str) -> None:
        self._counted.add(key)
        self.planned = max(self.planned, self.done)

    def run(self, configs: list[TrainConfig]) -> list[Record]:
        """Records of ``configs`` in order, running those not recorded yet."""
        keys = [run_key(self.source.name, c) for c in configs]
        todo: dict[str, TrainConfig] = {}
        for key, config in zip(keys, configs):
            if self.store.get(key) is not None:
                if key not in self._counted:
                    self.reused += 1
                    self._count(key)
            else:
                todo.setdefault(key, config)
        if todo:
            self._execute(sorted(todo.values(), key=expected_cost, reverse=True))
        return [self.store.records[key] for key in keys]

    def _execute(self, configs: list[TrainConfig]) -> None:
        started = time.perf_counter()
        finished = 0

        def report(record: Record, config: TrainConfig) -> None:
            nonlocal finished
            finished += 1
            self.store.add(record)
            self.new_runs += 1
            self._count(record["key"])
            wall_per_run = (time.perf_counter() - started + self._busy_seconds) / self.new_runs
            remaining = max(self.planned - self.done, 0)
            self.progress(
                f"[{self.done}/{self.planned}] {describe(config)}: val recall@20 "
                f"{record['val']['recall@20']:.4f}, test recall@20 "
                f"{record['test']['recall@20']:.4f}, best epoch {record['best_epoch']}/"
                f"{record['epochs_run']}, {record['seconds']:.0f}s | ETA "
                f"{_duration(wall_per_run * remaining)}"
            )

        by_key = {run_key(self.source.name, c): c for c in configs}
        if self.workers == 0:
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                for config in configs:
                    report(train_and_test(self.source.load(), config), config)
            finally:
                torch.set_num_threads(threads)
        else:
            context = multiprocessing.get_context("spawn")
            jobs = [(self.source, c) for c in configs]
            with context.Pool(min(self.workers, len(jobs))) as pool:
                for record in pool.imap_unordered(_run_in_worker, jobs):
                    report(record, by_key[record["key"]])
                pool.close()  # a clean shutdown, rather than the context's terminate()
                pool.join()
        # The ETA divides the wall time spent running (over every call) by the runs it made.
        self._busy_seconds += time.perf_counter() - started
