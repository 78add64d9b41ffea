"""One request cannot stall the others (issue 13 item 5): bounded bodies, k and batches, and
the CPU work of a recommendation runs off the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

import service.routers.recommend as recommend_router
from service.app import create_app
from service.ranker import OnnxRanker
from tests.service.conftest import LiveServer, make_settings


@pytest.fixture
def bounded(sqlite_url, bundle_root, bundle_v1) -> Iterator[TestClient]:
    settings = make_settings(
        sqlite_url,
        bundle_root,
        max_request_bytes=2_000,
        max_k=20,
        max_history=5,
        max_batch_size=3,
        max_batch_items=40,
    )
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        yield client


def test_a_body_over_the_limit_is_a_413_declared_or_streamed(bounded):
    body = b'{"user_id": "u1", "exclude": [' + b", ".join([b'"i1"'] * 600) + b"]}"
    assert len(body) > 2_000
    declared = bounded.post(
        "/recommend", content=body, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert "PMTREC_MAX_REQUEST_BYTES" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    streamed = bounded.post(
        "/recommend", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert "PMTREC_MAX_REQUEST_BYTES" in streamed.json()["detail"]
    feedback = bounded.post("/feedback", content=body, headers={"Content-Type": "application/json"})
    assert feedback.status_code == 413
    # Under the limit, the same route answers.
    assert bounded.post("/recommend", json={"user_id": "u1", "k": 20}).status_code == 200


def test_k_history_and_batch_bounds_are_settings(bounded):
    over_k = bounded.post("/recommend", json={"user_id": "u1", "k": 21})
    assert over_k.status_code == 422 and "PMTREC_MAX_K" in over_k.json()["detail"]
    similar = bounded.get("/items/i1/similar", params={"k": 21})
    assert similar.status_code == 422 and "PMTREC_MAX_K" in similar.json()["detail"]
    history = bounded.post("/recommend", json={"user_id": "new", "history": ["i1"] * 6})
    assert history.status_code == 422 and "PMTREC_MAX_HISTORY" in history.json()["detail"]

    four = {"requests": [{"user_id": "u1", "k": 1}] * 4}
    too_many = bounded.post("/recommend/batch", json=four)
    assert too_many.status_code == 422
    assert "PMTREC_MAX_BATCH_SIZE" in too_many.json()["detail"]
    heavy = {"requests": [{"user_id": "u1", "k": 20}] * 3}  # 60 items > 40
    too_much = bounded.post("/recommend/batch", json=heavy)
    assert too_much.status_code == 422
    assert "PMTREC_MAX_BATCH_ITEMS" in too_much.json()["detail"]
    nested = bounded.post("/recommend/batch", json={"requests": [{"user_id": "u1", "k": 21}]})
    assert nested.status_code == 422 and "requests.0.k" in nested.json()["detail"]
    fits = {"requests": [{"user_id": "u1", "k": 20}, {"user_id": "u2", "k": 20}]}
    assert bounded.post("/recommend/batch", json=fits).status_code == 200


@pytest.mark.parametrize("held", ["recommender", "ranker", "ranker of one /recommend"])
def test_health_answers_while_a_recommendation_is_being_computed(
    sqlite_url, bundle_root, bundle_v1, request, monkeypatch, held
):
    """The recommender (or, on a two-stage bundle, the ranker inside it) is held inside a
    request (a batch, or one /recommend on the batcher's thread) until /healthz has
    answered. If the work ran on the event loop, /healthz could not answer before the
    release, and this fails."""
    started, release = threading.Event(), threading.Event()
    single = held == "ranker of one /recommend"
    if held == "recommender":
        bundle, owner, name = bundle_v1, recommend_router, "recommend"
    else:
        bundle, owner, name = request.getfixturevalue("ranked_bundle"), OnnxRanker, "probabilities"
    real = getattr(owner, name)

    def held_call(*args):
        if not started.is_set() and app.state.service.registry.active is not None:
            started.set()  # a request's call (the activation's warm-up ran before)
            release.wait(timeout=60)
        return real(*args)

    monkeypatch.setattr(owner, name, held_call)
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=bundle)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=90) as http:
        heavy: dict = {}

        def send_heavy() -> None:
            if single:
                one = {"user_id": "u1", "k": 20, "objectives": {"cart": 1.0}}
                heavy["response"] = http.post("/recommend", json=one)
                return
            batch = {"requests": [{"user_id": f"u{i}", "k": 50} for i in range(20)]}
            heavy["response"] = http.post("/recommend/batch", json=batch)

        worker = threading.Thread(target=send_heavy)
        worker.start()
        try:
            assert started.wait(timeout=60), "the batch request never reached the recommender"
            health: dict = {}
            answered = threading.Event()

            def probe() -> None:
                with httpx.Client(base_url=server.url, timeout=90) as other:
                    health["status"] = other.get("/healthz").status_code
                answered.set()

            threading.Thread(target=probe, daemon=True).start()
            # Broken (work on the loop): /healthz never answers while the batch is held.
            healthy_while_held = answered.wait(timeout=30)
            assert not release.is_set()
        finally:
            release.set()
            worker.join(timeout=60)
        assert healthy_while_held, "/healthz did not answer while a recommendation was computed"
        assert health["status"] == 200
        assert heavy["response"].status_code == 200
        if single:
            assert len(heavy["response"].json()["items"]) == 20
        else:
            assert len(heavy["response"].json()["results"]) == 20
