"""A retrain that asks for the ranking stage (``"ranker": "mmoe"``) trains both stages and
registers a two-stage bundle; the torch-free request schema checks the ranker settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.schemas.jobs import RetrainRequest
from shared import hyperparameters as shared
from shared.bundle import load_bundle
from shared.db import JobKind
from shared.db.job_queue import enqueue_job, get_job
from tests.jobs.conftest import train_params
from trainer.jobs import Worker
from trainer.twostage import RankerStage

FAST = {"epochs": 3, "lr": 0.05}


def _train(settings, sessions, taste_csv, **params):
    values = train_params(
        dataset="csv", load_options={"interactions": str(taste_csv)}, hyperparameters=FAST
    )
    with sessions() as session, session.begin():
        job_id = enqueue_job(session, JobKind.TRAIN, {**values, **params}).id
    Worker(settings, sessions).run(exit_when_idle=True)
    with sessions() as session:
        return get_job(session, job_id)


def test_a_retrain_with_a_ranker_writes_a_two_stage_bundle(settings, sessions, taste_csv):
    job = _train(
        settings,
        sessions,
        taste_csv,
        ranker="mmoe",
        ranker_hyperparameters={"epochs": 2, "negative_ratio": 2},
    )
    assert (job.status, job.error) == ("succeeded", None)
    bundle = load_bundle(job.result["bundle_path"])
    ranker = bundle.ranker
    assert bundle.ranker_path is not None and bundle.ranker_path.is_file()
    assert ranker["model"] == "mmoe" and ranker["target"] in ranker["objectives"]
    assert ranker["hyperparameters"]["negative_ratio"] == 2
    assert ranker["hyperparameters"]["epochs"] == 2
    assert job.result["ranker"]["metrics"]["test"]["mmoe@100:hit@10"] >= 0
    assert "training the ranking stage" in job.log_tail


def test_a_retrain_without_a_ranker_stays_retrieval_only(settings, sessions, taste_csv):
    job = _train(settings, sessions, taste_csv)
    assert job.status == "succeeded"
    assert load_bundle(job.result["bundle_path"]).ranker is None


def test_a_job_row_with_an_unknown_ranker_fails_with_the_valid_names(settings, sessions, taste_csv):
    job = _train(settings, sessions, taste_csv, ranker="forest")
    assert job.status == "failed"
    assert "unknown ranker 'forest'" in job.error and "mmoe" in job.error


def test_the_request_schema_checks_the_ranker_and_its_settings():
    request = RetrainRequest(
        dataset="office", ranker="drgrad", ranker_hyperparameters={"negative_ratio": 4.0}
    )
    assert request.ranker_hyperparameters == {"negative_ratio": 4}
    for bad, message in [
        ({"ranker": "forest"}, "unknown ranker"),
        ({"ranker_hyperparameters": {"epochs": 2}}, "need a ranker"),
        ({"ranker": "mmoe", "ranker_hyperparameters": {"negative_ratio": 0}}, "negative_ratio"),
        ({"ranker": "mmoe", "ranker_hyperparameters": {"dim": 8}}, "unknown ranker hyper"),
    ]:
        with pytest.raises(ValidationError, match=message):
            RetrainRequest(dataset="office", **bad)


def test_the_stage_takes_its_defaults_and_rules_from_the_declarations():
    assert RankerStage().negative_ratio == shared.RANKER_HYPERPARAMETERS["negative_ratio"].default
    # Every value the schema accepts, the trainer's stage accepts too; what it refuses, too.
    for name, param in shared.RANKER_HYPERPARAMETERS.items():
        value = next(iter(param.choices)) if param.choices else (param.type is bool or 1)
        values = shared.validate_ranker("mmoe", {name: value})
        RankerStage(model="mmoe", **values).train_config()
    with pytest.raises(ValueError, match="negative_ratio must be in"):
        RankerStage(negative_ratio=0)
