"""Acceptance 1 and 2 on the real Office data: an API process and worker processes on one
database (PostgreSQL when PMTREC_TEST_DATABASE_URL is set, else a SQLite file).

1. POST /retrain with a small epoch budget: the job succeeds, the new version (which also
   learned a user from POST /feedback) becomes active and serves, its evaluation is stored.
2. The worker is SIGKILLed mid-training: the job fails within the heartbeat timeout, the API
   serves the previous model throughout, and no new version or bundle folder appears.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import real_data_dir
from tests.jobs.conftest import ADMIN, job_settings
from tests.jobs.processes import (
    Process,
    imported_modules,
    settings_env,
    start_api,
    start_worker,
    wait_for,
)

pytestmark = pytest.mark.real_data
# Long enough that a live worker on a loaded machine is not reaped mid-retrain (50 missed
# heartbeats); the SIGKILL test waits this long once.
HEARTBEAT_TIMEOUT = 15.0
POLL = 0.3
NEW_USER = "e2e-new-user"
NEW_USER_ITEMS = ["10", "20", "30", "40", "50"]


@dataclass
class Deployment:
    url: str
    api: Process
    env: dict[str, str]
    root: Path
    bundle_root: Path
    bootstrap_version: str


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    base = os.environ.get("PMTREC_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'e2e.db'}"
        return
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _weak_office_bundle(data_dir: Path, out: Path) -> str:
    """A deliberately weak BPR model (one epoch at a tiny learning rate): the first active
    version, which a short retrain must beat for the guarded activation."""
    from trainer.data import load_dataset
    from trainer.defaults import default_config
    from trainer.evaluation import RankingEvaluator
    from trainer.export import export_bundle
    from trainer.training import Trainer

    dataset = load_dataset("office", data_dir, allow_download=False)
    # A random start at d = 32: Office's defaults start from ALS, which is not weak.
    config = replace(default_config("office", "bpr"), epochs=1, lr=1e-4, init="xavier", dim=32)
    result = Trainer(dataset, config, progress=False).fit()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"), *dataset.positive_csr(), dataset.num_items
    ).evaluate(users, items)
    version = "office-bpr-bootstrap"
    export_bundle(
        result, dataset, out, {"val": result.val_metrics, "test": test}, model_version=version
    )
    return version


@pytest.fixture(scope="module")
def deployment(database, tmp_path_factory):
    data_dir = real_data_dir()
    if data_dir is None:
        pytest.skip("PMTREC_DATA_DIR does not point at the real datasets (office/ missing)")
    root = tmp_path_factory.mktemp("e2e")
    settings = job_settings(
        database,
        root,
        data_dir=data_dir,
        active_poll_seconds=POLL,
        job_heartbeat_seconds=0.3,
        job_heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT,
        job_max_attempts=1,
        # The walk-through posts feedback without a client key (docs/service.md).
        allow_anonymous_feedback=True,
    )
    settings.bundle_root.mkdir(parents=True)
    version = _weak_office_bundle(data_dir, settings.bundle_root / "bootstrap")
    env = settings_env(settings)
    api, url = start_api(env, root, bundle=settings.bundle_root / "bootstrap")
    try:
        yield Deployment(url, api, env, root, settings.bundle_root, version)
    finally:
        api.stop()
    # The API process never imported torch or the trainer, job endpoints included.
    forbidden = sorted(
        m for m in imported_modules(api.log()) if m.split(".")[0] in ("torch", "trainer")
    )
    assert forbidden == [], f"the API process imported {forbidden}"


def _version_folders(bundle_root: Path) -> list[str]:
    """The bundle root's version folders (not hidden ones: checkpoints, partial writes)."""
    return sorted(p.name for p in bundle_root.iterdir() if not p.name.startswith("."))


def _job(client: httpx.Client, job_id: int) -> dict:
    response = client.get(f"/jobs/{job_id}", headers=ADMIN)
    response.raise_for_status()
    return response.json()


def _wait_job(client: httpx.Client, job_id: int, statuses: set[str], seconds: float) -> dict:
    job: dict = {}

    def reached() -> bool:
        nonlocal job
        job = _job(client, job_id)
        return job["status"] in statuses

    assert wait_for(reached, seconds), f"job {job_id} stayed {job.get('status')}: {job}"
    return job


def test_retrain_through_the_api(deployment):
    worker = start_worker(deployment.env, deployment.root, name="e2e-worker")
    try:
        with httpx.Client(base_url=deployment.url, timeout=30) as client:
            stored = client.post(
                "/feedback",
                json=[{"user_id": NEW_USER, "item_id": item} for item in NEW_USER_ITEMS],
            )
            assert stored.status_code == 201
            assert client.post("/recommend", json={"user_id": NEW_USER}).json()["source"] == (
                "popular"
            )
            response = client.post(
                "/retrain",
                json={
                    "dataset": "office",
                    "method": "pmtrec",
                    "hyperparameters": {"epochs": 2, "lr": 0.01},
                    "activate": True,
                },
                headers=ADMIN,
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
            progress = set()

            def done() -> bool:
                job = _job(client, job_id)
                progress.add(job["progress"])
                return job["status"] in ("succeeded", "failed")

            assert wait_for(done, 180, worker), worker.log()[-3000:]
            job = _job(client, job_id)
            assert job["status"] == "succeeded", (job["error"], worker.log()[-3000:])
            assert job["progress"] == 1.0 and job["error"] is None
            result = job["result"]
            version = result["model_version"]
            assert result["activation"]["activated"], result["activation"]
            assert result["activation"]["previous_version"] == deployment.bootstrap_version
            assert result["feedback"]["new_users"] == 1
            assert result["feedback"]["added"] == len(NEW_USER_ITEMS)
            assert "val recall@20" in job["log_tail"]

            # The API picks the version up from the database and serves it.
            assert wait_for(lambda: client.get("/readyz").json()["model_version"] == version, 30)
            answer = client.post("/recommend", json={"user_id": NEW_USER, "k": 10}).json()
            assert (answer["model_version"], answer["source"]) == (version, "personalized")
            assert not set(NEW_USER_ITEMS) & {i["item_id"] for i in answer["items"]}
            models = client.get("/models").json()
            assert models["active_version"] == version
            statuses = {v["id"]: v["status"] for v in models["versions"]}
            assert statuses == {deployment.bootstrap_version: "retired", version: "active"}

            # Its evaluation ran and is stored per metric and K.
            evaluation = _wait_job(
                client, result["evaluation_job_id"], {"succeeded", "failed"}, 120
            )
            assert evaluation["status"] == "succeeded", evaluation["error"]
            (stored,) = client.get(f"/models/{version}/evaluations").json()["evaluations"]
            assert stored["job_id"] == result["evaluation_job_id"]
            assert sorted(stored["metrics"]["test"]) == sorted(
                f"{m}@{k}" for m in ("recall", "ndcg", "hit") for k in (5, 10, 20, 40)
            )
            for key, value in result["metrics"]["test"].items():
                assert stored["metrics"]["test"][key] == pytest.approx(value, abs=1e-6)
            assert result["metrics"]["val"]["recall@20"] > 0.011  # it learned something

            # POST /evaluations evaluates any registered version on request.
            response = client.post(
                "/evaluations", json={"model_version": deployment.bootstrap_version}, headers=ADMIN
            )
            assert response.status_code == 202
            again = _wait_job(client, response.json()["job_id"], {"succeeded", "failed"}, 120)
            assert again["status"] == "succeeded", again["error"]
            (old,) = client.get(f"/models/{deployment.bootstrap_version}/evaluations").json()[
                "evaluations"
            ]
            assert old["metrics"]["test"]["recall@20"] < stored["metrics"]["test"]["recall@20"]
    finally:
        assert worker.stop() == 0  # SIGTERM: it gives back any job and exits cleanly


def test_killed_worker_fails_the_job_and_the_api_keeps_serving(deployment):
    with httpx.Client(base_url=deployment.url, timeout=30) as client:
        serving = client.get("/readyz").json()["model_version"]
        before = {v["id"] for v in client.get("/models").json()["versions"]}
        folders_before = _version_folders(deployment.bundle_root)

        stop = threading.Event()
        answers: Counter[str] = Counter()
        failures: list[str] = []

        def load() -> None:
            with httpx.Client(base_url=deployment.url, timeout=30) as load_client:
                while not stop.is_set():
                    try:
                        response = load_client.post("/recommend", json={"user_id": "7", "k": 5})
                        if response.status_code == 200:
                            answers[response.json()["model_version"]] += 1
                        else:
                            failures.append(f"{response.status_code} {response.text}")
                    except httpx.HTTPError as error:  # a failed request is what this hunts
                        failures.append(repr(error))
                    time.sleep(0.01)

        clients = threading.Thread(target=load)
        clients.start()
        worker = start_worker(deployment.env, deployment.root, name="doomed-worker")
        try:
            response = client.post(
                "/retrain",
                json={
                    "dataset": "office",
                    "method": "pmtrec",
                    "hyperparameters": {"epochs": 300},
                    "activate": True,
                    "activation_guard": False,
                },
                headers=ADMIN,
            )
            job_id = response.json()["job_id"]
            # Mid-training: at least one epoch reported, far from the last.
            assert wait_for(lambda: _job(client, job_id)["progress"] > 0, 120, worker), (
                worker.log()[-3000:]
            )
            worker.kill()
            killed_at = time.monotonic()
            job = _wait_job(
                client, job_id, {"failed", "queued", "succeeded"}, HEARTBEAT_TIMEOUT + 120
            )
            noticed_after = time.monotonic() - killed_at
        finally:
            worker.stop()
            time.sleep(2 * POLL)  # requests keep flowing after the failure too
            stop.set()
            clients.join(timeout=30)

        print(f"job failed {noticed_after:.2f} s after SIGKILL; {dict(answers)} answers, 0 failed")
        assert job["status"] == "failed", job
        assert "doomed-worker sent no heartbeat" in job["error"]
        assert 0 < job["progress"] < 0.1
        # Reaped for its silence, never before the timeout: the database's own timestamps, not
        # the test's clock (how soon after the timeout depends on the load of the machine).
        silent_for = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(
            job["heartbeat_at"]
        )
        assert silent_for >= timedelta(seconds=HEARTBEAT_TIMEOUT), silent_for
        assert failures == []
        assert set(answers) == {serving} and sum(answers.values()) > 20
        assert client.get("/readyz").json()["model_version"] == serving
        assert {v["id"] for v in client.get("/models").json()["versions"]} == before
        assert _version_folders(deployment.bundle_root) == folders_before
