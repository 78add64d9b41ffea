"""The train job: train, export a bundle, register it, queue its evaluation, maybe activate.

Params (``POST /retrain``): dataset, method, hyperparameters, load_options, activate,
activation_guard, include_feedback, and optionally ranker (an architecture name) with
ranker_hyperparameters: then the ranking stage trains after retrieval and the bundle is a
two-stage one (trainer/twostage.py). Progress is epochs done / maximum epochs.

Nothing reaches the database before the bundle is complete: the bundle is written to a
temporary folder and renamed into place (``shared.bundle.write_bundle``), its checksums are
verified, and then one transaction checks that this worker still holds the job, registers
the version, queues its evaluation, applies the activation guard and marks the job
succeeded. A worker killed at any point before that commit leaves no registered version.

Training is restart-safe: its state is saved after every epoch under the bundle root
(``.checkpoints/job-<id>``, with the feedback cut-off the first attempt chose), so an attempt
re-queued after its worker died or was stopped resumes from the last finished epoch, on the
same inputs, and ends with the model an uninterrupted run would have trained. The folder is
removed when the job succeeds.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from shared.bundle import verify_bundle
from shared.db import JobKind
from shared.db.job_queue import complete_job, enqueue_job, owned_job
from shared.db.versions import add_version
from shared.hyperparameters import validate_hyperparameters, validate_ranker
from shared.input_paths import InputPathError, confine_load_options
from trainer.data import LoadOptions, RecDataset, load_dataset
from trainer.defaults import dataset_auxiliary_tasks, default_config
from trainer.evaluation import RankingEvaluator
from trainer.export import export_bundle, new_model_version
from trainer.jobs.activation import activate_if_allowed
from trainer.jobs.checkpoints import job_checkpoint_folder
from trainer.jobs.context import JobContext, JobFailure
from trainer.jobs.feedback import with_feedback
from trainer.jobs.parallel_training import train_on_processes
from trainer.training import CheckpointMismatch, CheckpointStore, Trainer, TrainingCallback
from trainer.training.loop import EpochRecord, TrainResult

log = logging.getLogger("trainer.jobs.train")

# Beside the checkpoint: the inputs the first attempt chose (the feedback cut-off), so that a
# re-queued attempt trains on the same data and can resume.
INPUTS_FILE = "inputs.json"


class JobProgress(TrainingCallback):
    """Reports epochs to the job and stops between steps when the job is cancelled."""

    def __init__(self, context: JobContext) -> None:
        self._context = context

    def on_step(self, trainer: Trainer, epoch: int) -> None:
        self._context.check_cancelled()

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        self._context.report(record.epoch / trainer.config.epochs)


def checkpoint_folder(context: JobContext) -> Path:
    """Where a train job keeps its per-epoch state across attempts (under the bundle root)."""
    return job_checkpoint_folder(context.settings.bundle_root, context.job.id)


def job_load_options(context: JobContext, values: dict[str, Any]) -> LoadOptions:
    """The job's load options, file paths confined to the job input roots (defence in depth:
    a job row written without the API is checked too)."""
    try:
        confined = confine_load_options(values, context.settings.input_roots())
    except InputPathError as error:
        raise JobFailure(str(error)) from error
    return LoadOptions.from_manifest(confined)


def _earlier_inputs(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / INPUTS_FILE).read_text())
    except (OSError, ValueError):
        return None


def _training_data(
    context: JobContext, params: dict[str, Any], load_options: LoadOptions, folder: Path
) -> tuple[RecDataset, dict]:
    settings = context.settings
    dataset = load_dataset(
        params["dataset"], settings.data_dir, settings.allow_download, load_options
    )
    if not params.get("include_feedback", True):
        return dataset, {"included": False}
    # A re-queued attempt takes the feedback its first attempt took, not newer events (0: the
    # first attempt saw none).
    earlier = _earlier_inputs(folder)
    up_to = None if earlier is None else earlier.get("feedback", {}).get("last_id") or 0
    with context.sessions() as session:
        dataset, feedback = with_feedback(
            session,
            dataset,
            up_to,
            max_events=settings.feedback_max_events_per_retrain,
            max_per_user=settings.feedback_max_events_per_user,
        )
    if feedback["events"]:
        log.info("feedback joining the training split: %s", feedback)
    return dataset, feedback


def run_train_job(context: JobContext) -> None:
    params = context.job.params
    overrides = validate_hyperparameters(params.get("hyperparameters") or {})
    ranker_settings = validate_ranker(
        params.get("ranker"), params.get("ranker_hyperparameters") or {}
    )
    load_options = job_load_options(context, params.get("load_options") or {})
    config = replace(
        default_config(params["dataset"], params["method"], load_options.core), **overrides
    )
    folder = checkpoint_folder(context)
    dataset, feedback = _training_data(context, params, load_options, folder)
    if dataset.behaviors:  # a CSV's behaviors are known once it is read
        config = replace(config, auxiliary_tasks=dataset_auxiliary_tasks(dataset))
    log.info("dataset %s: %s", dataset.name, dataset.stats())
    context.check_cancelled()
    inputs = {"feedback": feedback}
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{INPUTS_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(inputs))
    os.replace(partial, folder / INPUTS_FILE)  # a kill mid-write leaves no half file

    checkpoints = CheckpointStore(folder)
    processes = context.settings.worker_train_processes
    if processes > 1:
        result = train_on_processes(context, dataset, config, folder, processes)
    else:
        result = _train_here(context, dataset, config, checkpoints)
    context.check_cancelled()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"),
        *dataset.excluded_csr(config.eval_exclude),
        dataset.num_items,
        ks=config.eval_ks,
    ).evaluate(users, items)
    metrics = {"val": result.val_metrics, "test": test}
    ranker = None
    if params.get("ranker"):
        from trainer.twostage import RankerStage, fit_ranker_stage

        stage = RankerStage(model=params["ranker"], seed=config.seed, **ranker_settings)
        log.info("training the ranking stage: %s", stage)
        ranker = fit_ranker_stage(dataset, users, items, stage)
        context.check_cancelled()
    version = new_model_version(dataset.name, config.method)
    path = export_bundle(
        result,
        dataset,
        Path(context.settings.bundle_root) / version,
        metrics,
        model_version=version,
        load_options=load_options,
        training_inputs=inputs,
        ranker=ranker,
    )
    manifest = verify_bundle(path)
    log.info("bundle %s written to %s", version, path)
    context.check_cancelled()

    summary = {
        "model_version": version,
        "bundle_path": str(path),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "train_seconds": round(result.seconds, 2),
        "device": result.device,
        "train_processes": processes,
        "metrics": metrics,
        "feedback": feedback,
    }
    if ranker is not None:
        summary["ranker"] = {"model": ranker.model, "metrics": ranker.metrics}
    for attempt in range(3):
        try:
            _record(context, path, manifest, params, summary)
            checkpoints.remove()
            return
        except IntegrityError:  # an activation elsewhere raced ours: decide again
            if attempt == 2:
                raise
            log.warning("concurrent activation while recording %s; retrying", version)


def _train_here(
    context: JobContext, dataset: RecDataset, config: Any, checkpoints: CheckpointStore
) -> TrainResult:
    """Train in the worker's own process."""
    trainer = Trainer(
        dataset, config, progress=False, callbacks=[JobProgress(context)], checkpoints=checkpoints
    )
    try:
        return trainer.fit()  # resumes from the checkpoint of an earlier attempt, if any
    except CheckpointMismatch as mismatch:
        log.warning("%s; training from the first epoch", mismatch)
        checkpoints.path.unlink(missing_ok=True)
        return trainer.fit()


def _record(
    context: JobContext,
    path: Path,
    manifest: dict[str, Any],
    params: dict[str, Any],
    summary: dict[str, Any],
) -> None:
    """Register, queue the evaluation, activate (guarded) and finish: one transaction."""
    with context.ending(), context.sessions() as session, session.begin():
        owned_job(session, context.lease)  # LostJobError: another attempt owns the job now
        version = add_version(session, path, manifest)
        evaluation = enqueue_job(
            session, JobKind.EVALUATE, {"model_version": version.id}, model_version=version.id
        )
        activation: dict[str, Any] = {"requested": False, "activated": False}
        if params.get("activate"):
            activation = activate_if_allowed(
                session, version, guard=params.get("activation_guard", True)
            )
        log.info(
            "registered %s; evaluation job %s queued; activation: %s",
            version.id,
            evaluation.id,
            activation.get("reason", "not requested"),
        )
        complete_job(
            session,
            context.lease,
            {**summary, "evaluation_job_id": evaluation.id, "activation": activation},
            model_version=version.id,
            log_tail=context.log.text(),
        )
