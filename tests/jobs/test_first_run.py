"""A new deployment's first model and the worker's healthcheck (issue 18 item 11)."""

from __future__ import annotations

import subprocess
import sys

from shared.db import Job, JobKind
from shared.db.job_queue import enqueue_job
from tests.conftest import REPO
from tests.jobs.conftest import job_settings, train_params
from tests.jobs.processes import settings_env
from trainer.jobs.first_run import queue_first_model


def test_the_first_model_is_queued_once(sessions):
    first = queue_first_model(sessions, "office")
    assert first is not None
    with sessions() as session:
        job = session.get(Job, first)
        assert job.kind == "train" and job.status == "queued"
        assert job.params["dataset"] == "office" and job.params["activate"] is True
    assert queue_first_model(sessions, "office") is None  # a train job exists: not again


def test_no_first_model_where_a_train_job_was_ever_queued(sessions):
    with sessions() as session, session.begin():
        enqueue_job(session, JobKind.TRAIN, train_params(dataset="epinions"))
    assert queue_first_model(sessions, "office") is None


def _worker(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trainer.worker", *args],
        cwd=REPO,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_starting_worker_queues_the_configured_dataset(database_url, tmp_path, sessions):
    # No Office files here and downloads off: the job fails fast, with the reason recorded,
    # and a restarted worker queues nothing more.
    settings = job_settings(
        database_url, tmp_path, first_run_dataset="office", data_dir=tmp_path / "empty"
    )
    for _ in range(2):
        done = _worker(settings, "--exit-when-idle", "--log-level", "info")
        assert done.returncode == 0, done.stderr
    with sessions.kw["bind"].connect() as connection:
        rows = connection.execute(Job.__table__.select()).mappings().all()
    assert [(r["kind"], r["params"]["dataset"], r["status"]) for r in rows] == [
        ("train", "office", "failed")
    ]
    assert "office" in rows[0]["error"]


def test_an_unknown_first_run_dataset_exits_2(database_url, tmp_path):
    done = _worker(job_settings(database_url, tmp_path, first_run_dataset="netflix"))
    assert done.returncode == 2
    assert "PMTREC_FIRST_RUN_DATASET='netflix' is not a dataset" in done.stderr


_HEALTHCHECK = """
import sys
from trainer.healthcheck import main
code = main()
print("torch imported:", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def test_the_worker_healthcheck(tmp_path):
    (tmp_path / "bundles").mkdir()
    healthy = job_settings(f"sqlite:///{tmp_path / 'h.db'}", tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _HEALTHCHECK],
        cwd=REPO,
        env=settings_env(healthy),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "healthy", done.stderr
    assert "torch imported: False" in done.stderr
    broken = job_settings(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path, bundle_root=tmp_path / "gone"
    )
    done = subprocess.run(
        [sys.executable, "-m", "trainer.healthcheck"],
        cwd=REPO,
        env=settings_env(broken),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("unhealthy: database postgresql+psycopg://nobody@")
    assert f"bundle root {tmp_path / 'gone'} is not a writable folder" in done.stderr
