"""``python -m service --bundle X`` serves X, also when the database marks another version
active (issue 18 item 2), and says in the log which version it replaced."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from service.app import create_app
from tests.service.conftest import make_settings


def _serving(settings, bundle=None) -> str:
    """The version a fresh start (with ``bundle``, or without) answers with."""
    with TestClient(create_app(settings, bootstrap_bundle=bundle)) as client:
        response = client.post("/recommend", json={"user_id": "u1", "k": 3})
        assert response.status_code == 200, response.text
        return response.json()["model_version"]


def test_a_start_bundle_replaces_the_active_version(
    database_url, bundle_root, bundle_v1, bundle_v2, caplog
):
    settings = make_settings(database_url, bundle_root)
    assert _serving(settings, bundle_v1) == "synthetic-v1"
    with caplog.at_level(logging.INFO, logger="service.registry"):
        assert _serving(settings, bundle_v2) == "synthetic-v2"
    replaced = [r for r in caplog.records if "in place of the active model" in r.getMessage()]
    assert len(replaced) == 1 and replaced[0].levelno == logging.WARNING
    assert "synthetic-v2" in replaced[0].getMessage()
    assert "synthetic-v1" in replaced[0].getMessage()
    # The switch is recorded: a start without --bundle keeps serving the named bundle, and
    # naming the serving bundle again changes nothing.
    assert _serving(settings) == "synthetic-v2"
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="service.registry"):
        assert _serving(settings, bundle_v2) == "synthetic-v2"
    assert any("already the active model" in r.getMessage() for r in caplog.records)
