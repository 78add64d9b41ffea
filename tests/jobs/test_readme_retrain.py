"""The README's retrain example ends with the new model serving (issue 18 item 1): its body
is accepted by POST /retrain and, run by a worker on tiny data while a better version is
active, activates the new version."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from service.app import create_app
from shared.db import Job, ModelVersion
from shared.db.versions import active_version
from tests.conftest import REPO
from tests.jobs.conftest import ADMIN
from trainer.jobs import Worker


def readme_retrain_body() -> dict:
    """The JSON body of the README's ``curl ... /retrain`` example."""
    text = (REPO / "README.md").read_text()
    (body,) = re.findall(r"/retrain .*?\n.*?\n\s*-d '(\{.*?\})'", text)
    return json.loads(body)


def _retrain(client: TestClient, body: dict) -> int:
    response = client.post("/retrain", json=body, headers=ADMIN)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_the_readme_retrain_ends_with_the_new_model_serving(settings, sessions, taste_csv):
    body = readme_retrain_body()
    assert body["dataset"] == "office" and body["activate"] is True
    # On tiny data: the same body, with the CSV dataset and a few epochs.
    tiny = {
        **body,
        "dataset": "csv",
        "load_options": {"interactions": str(taste_csv)},
        "hyperparameters": {**body.get("hyperparameters", {}), "epochs": 4, "lr": 0.05},
    }
    with TestClient(create_app(settings)) as client:
        assert client.post("/retrain", json=body, headers=ADMIN).status_code == 202
        first = _retrain(client, {**tiny, "hyperparameters": {"epochs": 4, "lr": 0.05}})
        with sessions() as session, session.begin():  # only the office job is not run
            office = session.query(Job).filter(Job.params["dataset"].as_string() == "office")
            office.delete(synchronize_session=False)
        Worker(settings, sessions).run(exit_when_idle=True)
        with sessions() as session, session.begin():
            previous = session.get(Job, first).model_version
            # The serving version is better than any retrain can be: the guard would refuse.
            session.get(ModelVersion, previous).metrics = {"val": {"recall@20": 1.0}}
        job_id = _retrain(client, tiny)
        Worker(settings, sessions).run(exit_when_idle=True)
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job.status == "succeeded", job.error
            assert job.result["activation"]["activated"] is True
            assert active_version(session).id == job.model_version != previous
