"""The evaluate job: offline metrics of a registered version, stored per split, metric, K.

Recall, NDCG and HitRate at 5, 10, 20 and 40 with full ranking on the dataset's test split
(and the validation split), as ``python -m trainer.evaluate`` computes them.

The dataset is rebuilt as the training job built it: the manifest's ``training_inputs``
record the feedback cut-off, and the same stored feedback (events up to that id) is merged
again, so the evaluation scores the model on the data it was trained on, whatever feedback
arrived since.
"""

from __future__ import annotations

import logging
from pathlib import Path

from shared.bundle import load_bundle
from shared.db import Evaluation, ModelVersion
from shared.db.job_queue import complete_job, owned_job
from shared.metrics import DEFAULT_KS
from trainer.data import RecDataset, load_dataset
from trainer.evaluate import evaluate_bundle
from trainer.jobs.context import JobContext, JobFailure
from trainer.jobs.feedback import with_feedback
from trainer.jobs.train import job_load_options

log = logging.getLogger("trainer.jobs.evaluate")


def _training_inputs(
    context: JobContext, dataset: RecDataset, manifest: dict
) -> tuple[RecDataset, dict]:
    """``dataset`` with the feedback the training merged (up to its recorded cut-off)."""
    recorded = (manifest.get("training_inputs") or {}).get("feedback")
    if recorded is None:  # a bundle from before the record, or from trainer.fit
        return dataset, {"included": False, "recorded": False}
    if not recorded.get("included") or recorded.get("last_id") is None:
        return dataset, recorded
    with context.sessions() as session:
        caps = recorded.get("caps") or {}
        merged, again = with_feedback(
            session,
            dataset,
            up_to_id=int(recorded["last_id"]),
            max_events=caps.get("max_events"),
            max_per_user=caps.get("max_per_user"),
        )
    if again != recorded:
        log.warning(
            "the feedback up to event %s is not what training merged (%s, now %s): it was "
            "deleted since; the evaluation scores other data",
            recorded["last_id"],
            recorded,
            again,
        )
    return merged, again


def run_evaluate_job(context: JobContext) -> None:
    version_id = context.job.params["model_version"]
    with context.sessions() as session:
        row = session.get(ModelVersion, version_id)
    if row is None:
        raise JobFailure(f"model version {version_id!r} is not registered")
    bundle = load_bundle(Path(row.path))  # verifies every checksum
    context.report(0.2)
    context.check_cancelled()
    dataset = load_dataset(
        bundle.manifest["dataset"],
        context.settings.data_dir,
        context.settings.allow_download,
        job_load_options(context, bundle.manifest.get("load_options") or {}),
    )
    dataset, feedback = _training_inputs(context, dataset, bundle.manifest)
    context.report(0.4)
    context.check_cancelled()
    metrics = evaluate_bundle(bundle, dataset, DEFAULT_KS)
    log.info(
        "%s on %s: test recall@20 %.4f ndcg@20 %.4f",
        version_id,
        dataset.name,
        metrics["test"]["recall@20"],
        metrics["test"]["ndcg@20"],
    )
    context.check_cancelled()
    with context.ending(), context.sessions() as session, session.begin():
        job = owned_job(session, context.lease)
        for split, values in metrics.items():
            for key, value in values.items():
                metric, k = key.split("@")
                session.add(
                    Evaluation(
                        model_version=version_id,
                        job_id=job.id,
                        dataset=dataset.name,
                        split=split,
                        metric=metric,
                        k=int(k),
                        value=float(value),
                    )
                )
        complete_job(
            session,
            context.lease,
            {
                "model_version": version_id,
                "dataset": dataset.name,
                "feedback": feedback,
                "metrics": metrics,
            },
            log_tail=context.log.text(),
        )
