"""The train job: train, export a bundle, register it, queue its evaluation, maybe activate.

Params (``POST /retrain``): dataset, method, hyperparameters, load_options, activate,
activation_guard, include_feedback. Progress is epochs done / maximum epochs.

Nothing reaches the database before the bundle is complete: the bundle is written to a
temporary folder and renamed into place (``shared.bundle.write_bundle``), its checksums are
verified, and then one transaction checks that this worker still holds the job, registers
the version, queues its evaluation, applies the activation guard and marks the job
succeeded. A worker killed at any point before that commit leaves no registered version.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from sqlalchemy.exc import IntegrityError

from shared.bundle import verify_bundle
from shared.db import JobKind
from shared.db.job_queue import complete_job, enqueue_job, owned_job
from shared.db.versions import add_version
from shared.hyperparameters import validate_hyperparameters
from trainer.data import LoadOptions, RecDataset, load_dataset
from trainer.data.feedback import merge_feedback
from trainer.defaults import default_config
from trainer.evaluation import RankingEvaluator
from trainer.export import export_bundle, new_model_version
from trainer.jobs.activation import activate_if_allowed
from trainer.jobs.context import JobContext
from trainer.jobs.feedback import load_feedback
from trainer.training import TrainConfig, Trainer

log = logging.getLogger("trainer.jobs.train")


class ReportingTrainer(Trainer):
    """The trainer, reporting epochs to the job and stopping between steps when cancelled."""

    def __init__(self, dataset: RecDataset, config: TrainConfig, context: JobContext) -> None:
        super().__init__(dataset, config, progress=False)
        self._context = context
        self._epochs_done = 0

    def step(self, positive_index: torch.Tensor, epoch: int) -> list[float]:
        self._context.check_cancelled()
        return super().step(positive_index, epoch)

    def validate(self) -> dict[str, float]:
        metrics = super().validate()  # once per epoch, after its steps
        self._epochs_done += 1
        self._context.report(self._epochs_done / self.config.epochs)
        return metrics


def _training_data(
    context: JobContext, params: dict[str, Any], load_options: LoadOptions
) -> tuple[RecDataset, dict]:
    settings = context.settings
    dataset = load_dataset(
        params["dataset"], settings.data_dir, settings.allow_download, load_options
    )
    if not params.get("include_feedback", True):
        return dataset, {"included": False}
    with context.sessions() as session:
        feedback, last_id = load_feedback(session, dataset.name)
    if len(feedback) == 0:
        return dataset, {"included": True, "events": 0, "last_id": None}
    dataset = merge_feedback(
        dataset,
        feedback,
        max_events=settings.feedback_max_events_per_retrain,
        max_per_user=settings.feedback_max_events_per_user,
    )
    counts = {
        key.removeprefix("feedback:"): value
        for key, value in dataset.source_stats.items()
        if key.startswith("feedback:")
    }
    log.info("feedback joining the training split: %s (newest event %s)", counts, last_id)
    return dataset, {"included": True, **counts, "last_id": last_id}


def run_train_job(context: JobContext) -> None:
    params = context.job.params
    overrides = validate_hyperparameters(params.get("hyperparameters") or {})
    load_options = LoadOptions.from_manifest(params.get("load_options") or {})
    config = replace(
        default_config(params["dataset"], params["method"], load_options.core), **overrides
    )
    dataset, feedback = _training_data(context, params, load_options)
    log.info("dataset %s: %s", dataset.name, dataset.stats())
    context.check_cancelled()

    result = ReportingTrainer(dataset, config, context).fit()
    context.check_cancelled()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"), *dataset.positive_csr(), dataset.num_items, ks=config.eval_ks
    ).evaluate(users, items)
    metrics = {"val": result.val_metrics, "test": test}
    version = new_model_version(dataset.name, config.method)
    path = export_bundle(
        result,
        dataset,
        Path(context.settings.bundle_root) / version,
        metrics,
        model_version=version,
        load_options=load_options,
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
        "metrics": metrics,
        "feedback": feedback,
    }
    for attempt in range(3):
        try:
            _record(context, path, manifest, params, summary)
            return
        except IntegrityError:  # an activation elsewhere raced ours: decide again
            if attempt == 2:
                raise
            log.warning("concurrent activation while recording %s; retrying", version)


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
