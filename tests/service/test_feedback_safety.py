"""Feedback becomes training data: who may send it, what it may say, how admins review it.

Issue 13 item 3 (timestamps near the date limits), item 10 (anonymous feedback, review and
deletion) and issue 18 item 5 (ratings off the scale), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.app import create_app
from shared.db import FeedbackEvent
from tests.service.conftest import ADMIN, CLIENT, make_settings, write_random_bundle


def _stored(client: TestClient) -> list[tuple]:
    with client.app.state.service.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.select(
                    FeedbackEvent.user_id, FeedbackEvent.rating, FeedbackEvent.timestamp
                ).order_by(FeedbackEvent.id)
            )
        ]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamps_that_leave_the_calendar_in_utc_are_422(keyed_client, moment):
    response = keyed_client.post(
        "/feedback", json=[{"user_id": "u1", "item_id": "i1", "timestamp": moment}], headers=CLIENT
    )
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert "timestamp" in message and "outside the years 1 to 9999" in message
    assert _stored(keyed_client) == []


def test_timestamps_at_the_date_limits_are_stored_in_utc(keyed_client):
    events = [
        {"user_id": "early", "item_id": "i1", "timestamp": "0001-01-01T00:00:00-01:00"},
        {"user_id": "late", "item_id": "i1", "timestamp": "9999-12-31T23:59:59+01:00"},
        {"user_id": "naive", "item_id": "i1", "timestamp": "2024-05-01T10:00:00"},
    ]
    assert keyed_client.post("/feedback", json=events, headers=CLIENT).status_code == 201
    assert [(user, moment) for user, _, moment in _stored(keyed_client)] == [
        ("early", datetime(1, 1, 1, 1, 0, 0, tzinfo=timezone.utc)),
        ("late", datetime(9999, 12, 31, 22, 59, 59, tzinfo=timezone.utc)),
        ("naive", datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)),
    ]


def test_anonymous_feedback_is_refused_by_default(database_url, bundle_root, bundle_v1):
    with TestClient(
        create_app(make_settings(database_url, bundle_root), bootstrap_bundle=bundle_v1)
    ) as client:
        response = client.post("/feedback", json=[{"user_id": "u1", "item_id": "i1"}])
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert "PMTREC_API_KEY" in detail and "PMTREC_ALLOW_ANONYMOUS_FEEDBACK" in detail
        assert _stored(client) == []
    settings = make_settings(database_url, bundle_root, allow_anonymous_feedback=True)
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        response = client.post("/feedback", json=[{"user_id": "u1", "item_id": "i1"}])
        assert response.status_code == 201
        assert [user for user, _, _ in _stored(client)] == ["u1"]


def test_with_a_key_feedback_needs_it(keyed_client):
    event = [{"user_id": "u1", "item_id": "i1"}]
    assert keyed_client.post("/feedback", json=event).status_code == 401
    wrong = {"X-API-Key": "not-the-client-key"}
    assert keyed_client.post("/feedback", json=event, headers=wrong).status_code == 401
    assert _stored(keyed_client) == []
    assert keyed_client.post("/feedback", json=event, headers=CLIENT).status_code == 201


@pytest.mark.parametrize("rating", [-3, 0, 0.99, 5.01, 99])
def test_ratings_off_the_scale_are_422(keyed_client, rating):
    events = [
        {"user_id": "u1", "item_id": "i1", "rating": 4},
        {"user_id": "u2", "item_id": "i2", "rating": rating},
    ]
    response = keyed_client.post("/feedback", json=events, headers=CLIENT)
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    # The synthetic bundle's dataset has no known scale: the settings' bounds apply.
    assert "1.rating" in message and "between 1 and 5" in message
    assert "PMTREC_FEEDBACK_MIN_RATING" in message
    assert _stored(keyed_client) == []  # nothing of a refused batch is stored


def test_the_active_datasets_scale_wins_over_the_settings(database_url, tmp_path):
    office = write_random_bundle(tmp_path / "office", "office-like", seed=3, dataset="office")
    settings = make_settings(
        database_url,
        tmp_path,
        api_key=CLIENT["X-API-Key"],
        feedback_min_rating=-10.0,
        feedback_max_rating=100.0,
    )
    with TestClient(create_app(settings, bootstrap_bundle=office)) as client:
        for rating in (-3, 0.5, 5.5, 99):
            response = client.post(
                "/feedback",
                json=[{"user_id": "u1", "item_id": "i1", "rating": rating}],
                headers=CLIENT,
            )
            assert response.status_code == 422, rating
            assert "dataset 'office'" in response.json()["message"]
        for rating in (1, 3.5, 5):
            response = client.post(
                "/feedback",
                json=[{"user_id": "u1", "item_id": "i1", "rating": rating}],
                headers=CLIENT,
            )
            assert response.status_code == 201, (rating, response.text)
        assert [r for _, r, _ in _stored(client)] == [1.0, 3.5, 5.0]
    # Without a model serving, the settings' bounds apply.
    with TestClient(
        create_app(
            make_settings(
                f"sqlite:///{tmp_path / 'none.db'}",
                tmp_path,
                api_key=CLIENT["X-API-Key"],
                feedback_min_rating=-10.0,
                feedback_max_rating=100.0,
            )
        )
    ) as client:
        response = client.post(
            "/feedback", json=[{"user_id": "u1", "item_id": "i1", "rating": -3}], headers=CLIENT
        )
        assert response.status_code == 201


def test_admins_list_page_filter_and_delete_feedback(keyed_client):
    client = keyed_client
    events = [{"user_id": f"u{n % 3}", "item_id": f"i{n}", "rating": 3} for n in range(7)]
    assert client.post("/feedback", json=events, headers=CLIENT).status_code == 201

    assert client.get("/feedback").status_code == 401
    assert (
        client.get("/feedback", headers=CLIENT).status_code == 401
    )  # the client key is not enough
    page = client.get("/feedback", params={"limit": 3}, headers=ADMIN).json()
    assert page["total"] == 7
    assert [e["item_id"] for e in page["events"]] == ["i6", "i5", "i4"]  # newest first
    second = client.get("/feedback", params={"limit": 3, "offset": 3}, headers=ADMIN).json()
    assert [e["item_id"] for e in second["events"]] == ["i3", "i2", "i1"]
    mine = client.get("/feedback", params={"user_id": "u1"}, headers=ADMIN).json()
    assert mine["total"] == 2 and {e["user_id"] for e in mine["events"]} == {"u1"}

    assert client.delete("/feedback", params={"user_id": "u1"}).status_code == 401
    deleted = client.delete("/feedback", params={"user_id": "u1"}, headers=ADMIN)
    assert deleted.json() == {"deleted": 2}
    one = page["events"][0]["id"]
    assert client.delete(f"/feedback/{one}", headers=ADMIN).json() == {"deleted": 1}
    assert client.delete(f"/feedback/{one}", headers=ADMIN).status_code == 404
    assert client.delete("/feedback", headers=ADMIN).status_code == 422  # user_id required
    assert sorted(user for user, _, _ in _stored(client)) == ["u0", "u0", "u2", "u2"]
