"""Retrain, evaluation and job endpoints; admin auth on every admin route; the API follows
the active version the database names and reaps jobs of dead workers."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.routers.responses import ADMIN as ADMIN_RESPONSES
from shared.bundle import ITEM_EMBEDDINGS
from shared.db import Evaluation, Job, JobKind, create_db_engine, create_session_factory
from shared.db.job_queue import claim_next_job, enqueue_job
from shared.db.versions import register_bundle, switch_active
from tests.service.conftest import ADMIN, ADMIN_TOKEN, make_settings, write_random_bundle

ADMIN_ROUTES = {
    ("POST", "/models"),
    ("POST", "/models/{model_id}/activate"),
    ("POST", "/retrain"),
    ("POST", "/evaluations"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("POST", "/jobs/{job_id}/cancel"),
    ("GET", "/feedback"),
    ("DELETE", "/feedback"),
    ("DELETE", "/feedback/{event_id}"),
}
RETRAIN = {"dataset": "office", "method": "pmtrec", "hyperparameters": {"epochs": 50}}


def _admin_routes(client: TestClient) -> set[tuple[str, str]]:
    """Routes whose OpenAPI answers include the admin check's documented refusal (403)."""
    paths = client.get("/openapi.json").json()["paths"]
    refusal = ADMIN_RESPONSES[403]["description"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get("responses", {}).get("403", {}).get("description") == refusal
    }


def _call(client: TestClient, method: str, path: str, headers: dict | None = None):
    path = path.replace("{model_id}", "synthetic-v1").replace("{job_id}", "1")
    path = path.replace("{event_id}", "1")
    body = {"POST /retrain": RETRAIN, "POST /evaluations": {"model_version": "synthetic-v1"}}
    body["POST /models"] = {"path": "nowhere"}
    return client.request(method, path, json=body.get(f"{method} {path}"), headers=headers)


def test_every_admin_route_needs_the_token(sqlite_url, bundle_root, bundle_v1, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=bundle_v1)
    with TestClient(app) as client:
        assert _admin_routes(client) == ADMIN_ROUTES
        for method, path in sorted(ADMIN_ROUTES):
            for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}):
                response = _call(client, method, path, headers)
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["WWW-Authenticate"] == "Bearer"
            response = _call(client, method, path, ADMIN)
            assert response.status_code not in (401, 403), (method, path, response.text)
    # No token configured: refused (403) even with a token, never open.
    closed = make_settings(f"sqlite:///{tmp_path / 'closed.db'}", bundle_root, admin_token=None)
    with TestClient(create_app(closed)) as client:
        for method, path in sorted(ADMIN_ROUTES):
            for headers in (None, ADMIN):
                assert _call(client, method, path, headers).status_code == 403, (method, path)
    assert ADMIN_TOKEN not in caplog.text  # secrets never reach the log


def test_retrain_without_a_method_trains_the_datasets_own(client):
    """Office's declared default (EW), PMTRec for a dataset that names none."""
    for dataset, method in (("office", "ew"), ("tmall", "pmtrec")):
        response = client.post("/retrain", json={"dataset": dataset}, headers=ADMIN)
        assert response.status_code == 202, response.text
        job = client.get(f"/jobs/{response.json()['job_id']}", headers=ADMIN).json()
        assert job["params"]["method"] == method


def test_retrain_queues_a_job_and_validates_before_queuing(client):
    response = client.post("/retrain", json={**RETRAIN, "activate": True}, headers=ADMIN)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert response.json() == {"job_id": job_id, "kind": "train", "status": "queued"}
    assert response.headers["Location"] == f"/jobs/{job_id}"
    job = client.get(f"/jobs/{job_id}", headers=ADMIN).json()
    assert {k: job[k] for k in ("id", "kind", "status", "progress", "error", "attempts")} == {
        "id": job_id,
        "kind": "train",
        "status": "queued",
        "progress": 0.0,
        "error": None,
        "attempts": 0,
    }
    assert job["params"] == {
        **RETRAIN,
        "load_options": {},
        "activate": True,
        "activation_guard": True,
        "include_feedback": True,
        "ranker": None,
        "ranker_hyperparameters": {},
    }
    listed = client.get("/jobs", params={"status": "queued"}, headers=ADMIN).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]
    assert client.get("/jobs", params={"status": "running"}, headers=ADMIN).json()["jobs"] == []
    assert client.get("/jobs/999999", headers=ADMIN).status_code == 404
    assert client.get(f"/jobs/{2**63}", headers=ADMIN).status_code == 422

    bad = [
        ({"dataset": "netflix"}, "unknown dataset 'netflix'"),
        ({**RETRAIN, "method": "magic"}, "unknown method 'magic'"),
        ({**RETRAIN, "hyperparameters": {"epochs": 0}}, "epochs must be in [1, 10000], got 0"),
        ({**RETRAIN, "hyperparameters": {"learning_rate": 0.1}}, "unknown hyper-parameter"),
        ({**RETRAIN, "hyperparameters": {"lr": "fast"}}, "lr must be a number"),
        ({**RETRAIN, "hyperparameters": {"method": "ew"}}, "unknown hyper-parameter 'method'"),
        ({**RETRAIN, "load_options": {"core": 5}}, "dataset 'office' does not take core"),
        ({**RETRAIN, "activate": "yes"}, "activate"),
        ({**RETRAIN, "surprise": 1}, "surprise"),
        ({"method": "pmtrec"}, "dataset: Field required"),
    ]
    for body, expected in bad:
        response = client.post("/retrain", json=body, headers=ADMIN)
        assert response.status_code == 422, body
        assert expected in response.json()["message"], (body, response.json()["message"])
    assert len(client.get("/jobs", headers=ADMIN).json()["jobs"]) == 1  # nothing else queued


def test_evaluations_are_queued_and_listed_per_version(client, database_url):
    assert (
        client.post("/evaluations", json={"model_version": "nope"}, headers=ADMIN).status_code
        == 404
    )
    response = client.post("/evaluations", json={"model_version": "synthetic-v1"}, headers=ADMIN)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    job = client.get(f"/jobs/{job_id}", headers=ADMIN).json()
    assert (job["kind"], job["model_version"], job["params"]) == (
        "evaluate",
        "synthetic-v1",
        {"model_version": "synthetic-v1"},
    )
    assert client.get("/models/synthetic-v1/evaluations").json() == {
        "model_version": "synthetic-v1",
        "evaluations": [],
    }
    engine = create_db_engine(database_url)
    with create_session_factory(engine)() as session, session.begin():
        session.add_all(
            Evaluation(
                model_version="synthetic-v1",
                job_id=job_id,
                dataset="synthetic",
                split=split,
                metric=metric,
                k=k,
                value=k / 100,
            )
            for split in ("val", "test")
            for metric in ("recall", "ndcg", "hit")
            for k in (5, 10, 20, 40)
        )
    engine.dispose()
    (evaluation,) = client.get("/models/synthetic-v1/evaluations").json()["evaluations"]
    assert evaluation["job_id"] == job_id and evaluation["dataset"] == "synthetic"
    assert set(evaluation["metrics"]) == {"val", "test"}
    assert evaluation["metrics"]["test"]["ndcg@20"] == 0.2
    assert len(evaluation["metrics"]["test"]) == 12
    assert client.get("/models/nope/evaluations").status_code == 404


def _wait_for(condition, seconds: float = 60.0) -> bool:
    # A guard against a hang, not a margin: a loaded machine may take seconds per poll.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_api_follows_the_active_version_in_the_database(database_url, bundle_root, bundle_v1):
    settings = make_settings(database_url, bundle_root, active_poll_seconds=0.1)
    v2 = write_random_bundle(bundle_root / "follow-v2", "follow-v2", seed=21)
    broken = write_random_bundle(bundle_root / "follow-broken", "follow-broken", seed=22)
    engine = create_db_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
            assert client.get("/readyz").json()["model_version"] == "synthetic-v1"
            with sessions() as session, session.begin():  # what a worker does after a retrain
                register_bundle(session, v2)
                switch_active(session, "follow-v2")
            assert _wait_for(lambda: client.get("/readyz").json()["model_version"] == "follow-v2")
            assert client.post("/recommend", json={"user_id": "u1"}).json()["model_version"] == (
                "follow-v2"
            )
            # A version this process cannot load: it keeps serving the one it has.
            with sessions() as session, session.begin():
                register_bundle(session, broken)
            shutil.copy(v2 / ITEM_EMBEDDINGS, broken / ITEM_EMBEDDINGS)
            with sessions() as session, session.begin():
                switch_active(session, "follow-broken")
            assert _wait_for(
                lambda: client.get("/models/follow-broken").json()["error"] is not None
            )
            assert client.get("/readyz").json()["model_version"] == "follow-v2"
            assert "corrupted" in client.get("/models/follow-broken").json()["error"]
    finally:
        engine.dispose()


def test_api_reaps_jobs_whose_worker_died(database_url, bundle_root, bundle_v1):
    settings = make_settings(
        database_url,
        bundle_root,
        active_poll_seconds=0.1,
        job_heartbeat_seconds=0.1,
        job_heartbeat_timeout_seconds=0.5,
        job_max_attempts=1,
    )
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        job_id = client.post("/retrain", json=RETRAIN, headers=ADMIN).json()["job_id"]
        engine = create_db_engine(database_url)
        claimed = claim_next_job(create_session_factory(engine), "doomed-worker")
        engine.dispose()
        assert claimed.id == job_id
        # No heartbeat follows, as if the worker had been killed right after claiming.
        assert _wait_for(
            lambda: client.get(f"/jobs/{job_id}", headers=ADMIN).json()["status"] == "failed"
        )
        job = client.get(f"/jobs/{job_id}", headers=ADMIN).json()
        assert "doomed-worker sent no heartbeat" in job["error"]
        silence = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(
            job["heartbeat_at"]
        )
        # Reaped only once the timeout had passed, and by the API's own reaper (the guard of
        # _wait_for bounds it from above; a loaded machine may take seconds past the timeout).
        assert timedelta(seconds=0.5) <= silence < timedelta(seconds=60)
        assert datetime.fromisoformat(job["finished_at"]) <= datetime.now(timezone.utc)


@pytest.mark.parametrize("kind", [JobKind.TRAIN, JobKind.EVALUATE])
def test_job_listing_filters_by_kind(client, database_url, kind):
    engine = create_db_engine(database_url)
    with create_session_factory(engine)() as session, session.begin():
        ids = {k: enqueue_job(session, k, {}).id for k in JobKind}
    engine.dispose()
    listed = client.get("/jobs", params={"kind": kind.value}, headers=ADMIN).json()["jobs"]
    assert [j["id"] for j in listed] == [ids[kind]]


def test_ids_with_control_characters_are_422_not_500(client):
    # PostgreSQL text cannot hold NUL: such ids must be refused before any query.
    assert client.get("/models/a%00b").status_code == 422
    assert client.get("/models/a%00b/evaluations").status_code == 422
    bad = {"model_version": "a\u0000b"}
    assert client.post("/evaluations", json=bad, headers=ADMIN).status_code == 422
    for body in (
        {"dataset": "csv", "load_options": {"interactions": "ratings\u0000.csv"}},
        {"dataset": "office", "hyperparameters": {"device": "cuda:\u0000"}},
    ):
        assert client.post("/retrain", json=body, headers=ADMIN).status_code == 422


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"dim": 10**12}, "dim must be in [1, 4096], got 1000000000000"),
        ({"epochs": 1e300}, "epochs must be in [1, 10000]"),
        ({"seed": 2**200}, "seed must be in [0, 4294967295]"),
        ({"seed": -1}, "seed must be in [0, 4294967295], got -1"),
        ({"batch_size": 2**40}, "batch_size must be in [1, 1048576]"),
        ({"layers": 1000}, "layers must be in [1, 16]"),
    ],
)
def test_retrain_refuses_absurd_sizes(sqlite_url, bundle_root, hyperparameters, expected):
    """Issue 13 item 13: a typo must not queue a job that tries to allocate 10**12 columns."""
    with TestClient(create_app(make_settings(sqlite_url, bundle_root))) as client:
        body = {**RETRAIN, "hyperparameters": hyperparameters}
        response = client.post("/retrain", json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert expected in response.json()["message"]
        assert client.get("/jobs", headers=ADMIN).json()["jobs"] == []
        at_limit = {"dim": 4096, "epochs": 10_000, "seed": 2**32 - 1}
        body = {**RETRAIN, "hyperparameters": at_limit}
        assert client.post("/retrain", json=body, headers=ADMIN).status_code == 202


def test_cancel_a_queued_job_at_once_and_a_running_one_by_request(client, database_url):
    queued = client.post("/retrain", json=RETRAIN, headers=ADMIN).json()["job_id"]
    running = client.post("/retrain", json=RETRAIN, headers=ADMIN).json()["job_id"]
    engine = create_db_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        with sessions() as session, session.begin():
            session.get(Job, queued).status = "running"  # out of the way of the claim
        claimed = claim_next_job(sessions, "w1")
        assert claimed is not None and claimed.id == running
        with sessions() as session, session.begin():
            session.get(Job, queued).status = "queued"

        cancelled = client.post(f"/jobs/{queued}/cancel", headers=ADMIN)
        assert cancelled.status_code == 200, cancelled.text
        body = cancelled.json()
        assert body["status"] == "cancelled" and body["finished_at"] is not None
        assert body["cancel_requested_at"] is not None and "cancelled" in body["error"]
        assert claim_next_job(sessions, "w2") is None  # no worker will run it

        requested = client.post(f"/jobs/{running}/cancel", headers=ADMIN).json()
        assert requested["status"] == "running" and requested["cancel_requested_at"] is not None
        again = client.post(f"/jobs/{running}/cancel", headers=ADMIN).json()
        assert again["cancel_requested_at"] == requested["cancel_requested_at"]

        listed = client.get("/jobs", params={"status": "cancelled"}, headers=ADMIN).json()
        assert [j["id"] for j in listed["jobs"]] == [queued]
        finished = client.post(f"/jobs/{queued}/cancel", headers=ADMIN)
        assert finished.status_code == 409 and "already cancelled" in finished.json()["detail"]
        assert client.post("/jobs/999999/cancel", headers=ADMIN).status_code == 404
    finally:
        engine.dispose()
