"""POST /retrain validates a plug-in combiner's hyper-parameters by its declaration."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.registry import COMBINERS
from tests.service.conftest import ADMIN, make_settings


def test_a_retrain_carrying_a_plugin_parameter_is_validated(
    toy_declared, sqlite_url, bundle_root, bundle_v1
):
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=bundle_v1)
    with TestClient(app) as client:
        body = {"dataset": "office", "method": "toy", "hyperparameters": {"toy_param": 0.5}}
        accepted = client.post("/retrain", json=body, headers=ADMIN)
        assert accepted.status_code == 202, accepted.json()
        job = client.get(f"/jobs/{accepted.json()['job_id']}", headers=ADMIN).json()
        assert job["params"]["method"] == "toy"
        assert job["params"]["hyperparameters"] == {"toy_param": 0.5}
        body["hyperparameters"] = {"toy_param": 2}
        refused = client.post("/retrain", json=body, headers=ADMIN)
        assert refused.status_code == 422
        assert "toy_param must be in [0, 1], got 2" in refused.json()["message"]
    # Without the plug-in the method is unknown.
    COMBINERS.remove("toy")
    with pytest.raises(ValueError, match="unknown method 'toy'"):
        COMBINERS.get("toy")
