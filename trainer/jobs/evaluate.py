"""The evaluate job: offline metrics of a registered version, stored per split, metric, K.

Recall, NDCG and HitRate at 5, 10, 20 and 40 with full ranking on the dataset's test split
(and the validation split), as ``python -m trainer.evaluate`` computes them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from shared.bundle import load_bundle
from shared.db import Evaluation, ModelVersion
from shared.db.job_queue import complete_job, owned_job
from shared.metrics import DEFAULT_KS
from trainer.data import LoadOptions, load_dataset
from trainer.evaluate import evaluate_bundle
from trainer.jobs.context import JobContext, JobFailure

log = logging.getLogger("trainer.jobs.evaluate")


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
        LoadOptions.from_manifest(bundle.manifest.get("load_options") or {}),
    )
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
            {"model_version": version_id, "dataset": dataset.name, "metrics": metrics},
            log_tail=context.log.text(),
        )
