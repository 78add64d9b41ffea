"""Issue 13 item 8: job input files only from the configured folders, refused alike whether
or not a file exists, by the API (422) and by the worker (a job row written directly)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.app import create_app
from shared.db import Job, JobKind
from shared.db.job_queue import enqueue_job, get_job
from shared.input_paths import InputPathError, confine_input_path
from tests.jobs.conftest import ADMIN, job_settings, train_params, write_taste_csv
from trainer.jobs import HANDLERS, Worker

SECRET = "user,item,rating\nsecret-user,secret-item,5\n"


@pytest.fixture
def layout(tmp_path):
    """An input folder with a dataset, a readable file outside it, and a symlink out."""
    inputs = tmp_path / "inputs"
    write_taste_csv(inputs / "ratings.csv")
    secret = tmp_path / "secret.csv"
    secret.write_text(SECRET)
    (inputs / "link.csv").symlink_to(secret)
    return inputs, secret


def _outside(inputs, secret) -> list[str]:
    return [
        str(secret),  # exists, absolute
        str(secret.with_name("absent.csv")),  # does not exist
        "../secret.csv",  # relative, climbing out of the root
        str(inputs / ".." / "secret.csv"),
        str(inputs / "link.csv"),  # a symlink inside the root to a file outside
        "/etc/passwd",
        "../../../../../../etc/passwd",
        "/" + "x" * 5000,  # too long for the file system
    ]


def test_confinement_resolves_paths(layout):
    inputs, secret = layout
    assert (
        confine_input_path("ratings.csv", [inputs], "interactions")
        == (inputs / "ratings.csv").resolve()
    )
    messages = set()
    for path in _outside(inputs, secret):
        with pytest.raises(InputPathError) as refused:
            confine_input_path(path, [inputs], "interactions")
        messages.add(str(refused.value))
    assert len(messages) == 1  # nothing tells which files exist
    (message,) = messages
    assert "secret" not in message and "PMTREC_JOB_INPUT_ROOTS" in message


def test_the_api_refuses_files_outside_the_input_roots(database_url, tmp_path, layout, sessions):
    inputs, secret = layout
    settings = job_settings(database_url, tmp_path, job_input_roots=str(inputs))
    with TestClient(create_app(settings)) as client:
        answers = []
        for path in _outside(inputs, secret):
            body = {"dataset": "csv", "load_options": {"interactions": path}}
            response = client.post("/retrain", json=body, headers=ADMIN)
            assert response.status_code == 422, (path, response.text)
            answers.append(response.json())
        assert all(answer == answers[0] for answer in answers)  # the same for every path
        assert "secret" not in str(answers[0])
        assert answers[0]["message"].startswith("invalid request: load_options: load_options.")

        for given in ("ratings.csv", str(inputs / "ratings.csv")):
            body = {"dataset": "csv", "load_options": {"interactions": given}}
            response = client.post("/retrain", json=body, headers=ADMIN)
            assert response.status_code == 202, response.text
            job = client.get(f"/jobs/{response.json()['job_id']}", headers=ADMIN).json()
            # The job names the resolved file, so the worker reads what was checked.
            assert job["params"]["load_options"]["interactions"] == str(
                (inputs / "ratings.csv").resolve()
            )
    with sessions() as session:  # nothing was queued for the refused requests
        assert session.scalar(select(func.count()).select_from(Job)) == 2


def test_the_worker_refuses_jobs_naming_files_outside_the_roots(
    database_url, tmp_path, layout, sessions
):
    inputs, secret = layout
    settings = job_settings(database_url, tmp_path, job_input_roots=str(inputs))
    paths = [str(secret), str(secret.with_name("absent.csv")), str(inputs / "link.csv")]
    with sessions() as session, session.begin():
        ids = [
            enqueue_job(
                session,
                JobKind.TRAIN,
                train_params(dataset="csv", load_options={"interactions": path}),
            ).id
            for path in paths
        ]
    assert Worker(settings, sessions).run(exit_when_idle=True) == len(paths)
    with sessions() as session:
        jobs = [get_job(session, job_id) for job_id in ids]
    assert [job.status for job in jobs] == ["failed"] * len(paths)
    assert len({job.error for job in jobs}) == 1  # the same refusal, file or no file
    assert "PMTREC_JOB_INPUT_ROOTS" in jobs[0].error
    for job in jobs:
        assert "secret" not in job.error and "secret" not in job.log_tail
    assert not (tmp_path / "bundles").exists() or list((tmp_path / "bundles").iterdir()) == []


def test_an_evaluation_reads_no_file_outside_the_roots(database_url, tmp_path, layout, sessions):
    # The bundle's manifest names its training file; evaluated by workers whose roots no longer
    # hold it (or a manifest written by hand), the file is not read.
    inputs, _ = layout
    trained = job_settings(database_url, tmp_path, job_input_roots=str(inputs))
    with sessions() as session, session.begin():
        enqueue_job(
            session,
            JobKind.TRAIN,
            train_params(
                dataset="csv",
                load_options={"interactions": str(inputs / "ratings.csv")},
                hyperparameters={"epochs": 2},
            ),
        )
    Worker(trained, sessions, handlers={"train": HANDLERS["train"]}).run(exit_when_idle=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = job_settings(database_url, tmp_path, job_input_roots=str(elsewhere))
    assert Worker(moved, sessions).run(exit_when_idle=True) == 1
    with sessions() as session:
        evaluation = session.scalars(select(Job).where(Job.kind == "evaluate")).one()
    assert evaluation.status == "failed"
    assert "PMTREC_JOB_INPUT_ROOTS" in evaluation.error
