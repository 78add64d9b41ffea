"""Issue 13 item 9: while the database is unreachable, requests that need it answer 503 with
Retry-After (the client knows its feedback was not stored), /readyz says not ready, and all
recovers on its own once the database is back (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.app import create_app
from service.database import DatabaseProbe
from shared.db import FeedbackEvent
from tests.service.conftest import ADMIN, CLIENT, make_settings
from tests.service.outage import Outage


@pytest.fixture
def outage(database_url, tmp_path):
    cut = Outage(database_url, tmp_path)
    try:
        yield cut
    finally:
        cut.close()


def _count(client: TestClient) -> int:
    with client.app.state.service.engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(FeedbackEvent))


def test_an_outage_is_503_with_retry_after_and_recovers(outage, bundle_root, bundle_v1, caplog):
    settings = make_settings(
        outage.url, bundle_root, api_key=CLIENT["X-API-Key"], active_poll_seconds=0
    )
    event = [{"user_id": "u1", "item_id": "i1", "rating": 4}]
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        assert client.get("/readyz").status_code == 200
        assert client.post("/feedback", json=event, headers=CLIENT).status_code == 201

        outage.cut(client.app.state.service.engine)
        for response in (
            client.post("/feedback", json=event, headers=CLIENT),
            client.get("/models", headers=CLIENT),
            client.get("/jobs", headers=ADMIN),
            client.get("/readyz"),
        ):
            assert response.status_code == 503, (response.request.url, response.text)
            assert response.headers["Retry-After"] == str(settings.database_retry_after_seconds)
            assert "database" in response.json()["detail"]
        assert "database unavailable" in caplog.text
        # Recommendations need no database: the loaded model keeps answering.
        answer = client.post("/recommend", json={"user_id": "u1"}, headers=CLIENT)
        assert answer.status_code == 200

        outage.restore()
        assert client.get("/readyz").status_code == 200
        assert client.get("/models", headers=CLIENT).status_code == 200
        assert client.post("/feedback", json=event, headers=CLIENT).status_code == 201
        assert _count(client) == 2  # the event answered 503 was not stored; the others were


def test_the_readiness_probe_is_bounded_and_does_not_pile_up():
    """A database that hangs (a dropped network) makes /readyz answer not-ready within the
    probe's timeout, and repeated probes share the one hung query instead of new threads."""
    gate = threading.Event()
    connects = []

    def hanging_connect() -> sqlite3.Connection:
        connects.append(1)
        gate.wait(30)  # unbounded probes would wait this long and then report ready
        return sqlite3.connect(":memory:", check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=hanging_connect, poolclass=sa.pool.NullPool)
    probe = DatabaseProbe(engine, timeout=0.2)

    async def probe_three_times() -> list[bool]:
        try:
            return [await probe.reachable() for _ in range(3)]
        finally:
            gate.set()  # lets the hung query end, so that the event loop can close

    assert asyncio.run(probe_three_times()) == [False, False, False]
    assert len(connects) == 1

    async def probe_once() -> bool:
        await asyncio.sleep(0)
        return await DatabaseProbe(engine, timeout=30).reachable()

    assert asyncio.run(probe_once()) is True
