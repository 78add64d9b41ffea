"""Endpoint behaviour on small synthetic bundles, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import load_bundle
from shared.db import FeedbackEvent
from tests.service.conftest import ADMIN, CLIENT, make_settings


def test_known_user_gets_personalized_full_list_without_seen_items(client, bundle_v1):
    bundle = load_bundle(bundle_v1)
    user = bundle.user_ids[3]
    seen = {bundle.item_ids[r] for r in bundle.seen_rows(3)}
    response = client.post("/recommend", json={"user_id": user, "k": 10})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "synthetic-v1"
    assert body["source"] == "personalized"
    returned = [item["item_id"] for item in body["items"]]
    assert len(returned) == 10 and len(set(returned)) == 10
    assert not seen & set(returned)
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    expected = bundle.item_embeddings @ bundle.user_embeddings[3]
    np.testing.assert_allclose(scores, expected[[bundle.item_rows[i] for i in returned]], atol=1e-5)


def test_exclude_list_and_seen_exclusion_keep_lists_full_length(client, bundle_v1):
    bundle = load_bundle(bundle_v1)
    first = client.post("/recommend", json={"user_id": "u0", "k": 5}).json()["items"]
    exclude = [item["item_id"] for item in first] + ["not-an-item"]
    body = client.post("/recommend", json={"user_id": "u0", "k": 5, "exclude": exclude}).json()
    assert len(body["items"]) == 5
    assert not {item["item_id"] for item in body["items"]} & set(exclude)
    # With seen items kept, a user's own training items may come back; k = catalog size returns
    # the whole catalog minus the excluded ids.
    everything = client.post(
        "/recommend", json={"user_id": "u0", "k": 1000, "exclude_seen": False, "exclude": exclude}
    ).json()["items"]
    assert len(everything) == bundle.num_items - 5


def test_unknown_user_history_and_popular_sources(client, bundle_v1):
    bundle = load_bundle(bundle_v1)
    history = ["i1", "i2", "nope-1", "i3", "nope-2"]
    body = client.post("/recommend", json={"user_id": "new", "history": history, "k": 5}).json()
    assert body["source"] == "history"
    assert body["unknown_history_items"] == ["nope-1", "nope-2"]
    assert len(body["items"]) == 5
    assert not {"i1", "i2", "i3"} & {item["item_id"] for item in body["items"]}

    body = client.post("/recommend", json={"user_id": "new", "history": ["nope"], "k": 4}).json()
    assert body["source"] == "popular"
    assert body["unknown_history_items"] == ["nope"]
    order = np.argsort(-bundle.item_popularity, kind="stable")[:4]
    assert [item["item_id"] for item in body["items"]] == [bundle.item_ids[r] for r in order]
    assert [item["score"] for item in body["items"]] == bundle.item_popularity[order].tolist()


def test_batch_answers_like_single_requests(client):
    requests = [
        {"user_id": "u1", "k": 3},
        {"user_id": "x", "history": ["i4"], "k": 2},
        {"user_id": "y", "k": 1},
    ]
    response = client.post("/recommend/batch", json={"requests": requests})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "synthetic-v1"
    assert [r["source"] for r in body["results"]] == ["personalized", "history", "popular"]
    for request, result in zip(requests, body["results"]):
        single = client.post("/recommend", json=request).json()
        assert result["items"] == single["items"]


def test_similar_items(client, bundle_v1):
    bundle = load_bundle(bundle_v1)
    body = client.get("/items/i7/similar", params={"k": 4}).json()
    scores = bundle.item_embeddings @ bundle.item_embeddings[7]
    scores[7] = -np.inf
    assert [item["item_id"] for item in body["items"]] == [
        bundle.item_ids[r] for r in np.argsort(-scores)[:4]
    ]
    response = client.get("/items/unknown/similar")
    assert response.status_code == 404
    assert "unknown" in response.json()["detail"]


def test_feedback_is_validated_and_stored(keyed_client):
    client = keyed_client
    events = [
        {"user_id": "u1", "item_id": "i2", "rating": 4.5, "timestamp": "2024-05-01T10:00:00Z"},
        {"user_id": "brand-new-user", "item_id": "brand-new-item"},
    ]
    response = client.post("/feedback", json=events, headers=CLIENT)
    assert response.status_code == 201
    assert response.json() == {"stored": 2, "model_version": "synthetic-v1"}
    engine = client.app.state.service.engine
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                FeedbackEvent.user_id,
                FeedbackEvent.item_id,
                FeedbackEvent.rating,
                FeedbackEvent.model_version,
            ).order_by(FeedbackEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("u1", "i2", 4.5, "synthetic-v1"),
        ("brand-new-user", "brand-new-item", None, "synthetic-v1"),
    ]
    for bad in (
        [],
        [{"user_id": "", "item_id": "i1"}],
        [{"user_id": "u1"}],
        [{"user_id": "u1", "item_id": "i1", "rating": "high"}],
        [{"user_id": "u1", "item_id": "i\x00"}],
        {"user_id": "u1", "item_id": "i1"},
    ):
        assert client.post("/feedback", json=bad, headers=CLIENT).status_code == 422, bad


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "u1", "k": 0}, "k"),
        ({"user_id": "u1", "k": 1001}, "k"),
        ({"user_id": "u1", "k": "ten"}, "k"),
        ({"user_id": ""}, "user_id"),
        ({"user_id": "   "}, "user_id"),
        ({"user_id": 5}, "user_id"),
        ({"k": 5}, "user_id"),
        ({"user_id": "u1", "exclude": "i1"}, "exclude"),
        ({"user_id": "u1", "history": [""]}, "history"),
        ({"user_id": "u1", "colour": "red"}, "colour"),
    ],
)
def test_bad_recommend_requests_are_422_with_a_message(
    sqlite_url, bundle_root, bundle_v1, body, field
):
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=bundle_v1)
    with TestClient(app) as client:
        response = client.post("/recommend", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_malformed_json_is_422(client):
    response = client.post(
        "/recommend", content=b'{"user_id": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["message"]
    assert client.get("/items/i1/similar", params={"k": 0}).status_code == 422


def test_no_model_loaded_is_503_and_not_ready(database_url, bundle_root):
    app = create_app(make_settings(database_url, bundle_root))
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for response in (
            client.get("/readyz"),
            client.post("/recommend", json={"user_id": "a"}),
            client.get("/items/i1/similar"),
        ):
            assert response.status_code == 503
            assert "no model is loaded" in response.json()["detail"]
        assert client.get("/models").json() == {"active_version": None, "versions": []}


def test_models_listing_and_admin_auth(client, bundle_v2, bundle_root, database_url):
    listing = client.get("/models").json()
    assert listing["active_version"] == "synthetic-v1"
    assert [v["id"] for v in listing["versions"]] == ["synthetic-v1"]
    assert listing["versions"][0]["status"] == "active" and listing["versions"][0]["is_active"]

    assert client.post("/models", json={"path": str(bundle_v2)}).status_code == 401
    assert (
        client.post(
            "/models", json={"path": str(bundle_v2)}, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    outside = client.post("/models", json={"path": "/etc"}, headers=ADMIN)
    assert outside.status_code == 400
    registered = client.post("/models", json={"path": str(bundle_v2)}, headers=ADMIN)
    assert registered.status_code == 201
    assert registered.json()["status"] == "registered"
    assert client.get("/models/synthetic-v2").json()["dataset"] == "synthetic"
    assert client.get("/models/missing").status_code == 404
    assert client.post("/models/missing/activate", headers=ADMIN).status_code == 404

    activated = client.post("/models/synthetic-v2/activate", headers=ADMIN)
    assert activated.status_code == 200 and activated.json()["is_active"]
    statuses = {v["id"]: v["status"] for v in client.get("/models").json()["versions"]}
    assert statuses == {"synthetic-v1": "retired", "synthetic-v2": "active"}
    assert client.post("/recommend", json={"user_id": "u1"}).json()["model_version"] == (
        "synthetic-v2"
    )

    # A restarted service loads the version the database says is active.
    app = create_app(make_settings(database_url, bundle_root))
    with TestClient(app) as restarted:
        assert restarted.get("/readyz").json()["model_version"] == "synthetic-v2"


def test_admin_endpoints_are_403_without_a_configured_token(sqlite_url, bundle_root, bundle_v1):
    settings = make_settings(sqlite_url, bundle_root, admin_token=None)
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        response = client.post("/models/synthetic-v1/activate", headers=ADMIN)
    assert response.status_code == 403
    assert "PMTREC_ADMIN_TOKEN" in response.json()["detail"]


def test_api_key_when_configured(sqlite_url, bundle_root, bundle_v1):
    settings = make_settings(sqlite_url, bundle_root, api_key=CLIENT["X-API-Key"])
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        assert client.post("/recommend", json={"user_id": "u1"}).status_code == 401
        ok = client.post("/recommend", json={"user_id": "u1"}, headers=CLIENT)
        assert ok.status_code == 200
        assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_per_route_and_show_the_active_version(client):
    client.post("/recommend", json={"user_id": "u1"})
    client.post("/recommend", json={"user_id": ""})
    client.get("/items/i1/similar")
    text = client.get("/metrics").text
    assert 'pmtrec_http_requests_total{method="POST",route="/recommend",status="200"} 1.0' in text
    assert 'pmtrec_http_requests_total{method="POST",route="/recommend",status="422"} 1.0' in text
    assert 'route="/items/{item_id}/similar"' in text
    assert 'pmtrec_http_request_duration_seconds_bucket{le="0.025",method="POST",' in text
    assert 'pmtrec_active_model_info{model_version="synthetic-v1"} 1.0' in text
