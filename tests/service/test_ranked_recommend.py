"""Recommending by objective over a two-stage bundle (issue 16, service): FAISS candidates, the
ranker's probabilities blended by the request's weights, and everything around it (defaults,
cold start, exclusion, bounds, odd input, bundles without a ranker, warm-up, hot swap).

Expected orders are computed here with onnxruntime on the bundle's own ranker.onnx
(tests/service/ranked_bundle.py), not through the service's code."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import MANIFEST, RANKER, USER_ENCODER, load_bundle
from tests.service.conftest import ADMIN, make_settings, write_random_bundle
from tests.service.ranked_bundle import build_ranked_bundles, expected_order
from tests.service.test_hostile_input import _assert_readable_422, _post_raw
from tests.service.test_warm_up import doctor_bundle

DEFAULT_WEIGHTS = {"buy": 1.0, "cart": 0.5}


@pytest.fixture
def ranked_client(sqlite_url, bundle_root, ranked_bundle) -> Iterator[TestClient]:
    """A started app serving ``ranked_bundle`` (200 candidates: the whole 50-item catalogue)."""
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=ranked_bundle)
    with TestClient(app) as client:
        yield client


def _unseen(bundle, user_row: int | None, also: set[int] = frozenset()) -> list[int]:
    seen = set(bundle.seen_rows(user_row).tolist()) if user_row is not None else set()
    return [row for row in range(bundle.num_items) if row not in seen | set(also)]


def _assert_ranked_as_expected(body, bundle_path, user_input, candidates, weights, k):
    bundle = load_bundle(bundle_path)
    rows, blended = expected_order(bundle_path, user_input, candidates, weights)
    # No near-tie decides the cut: the comparison below is exact about the order.
    assert np.min(np.abs(np.diff(blended[: k + 1]))) > 1e-6
    assert body["ranked_by"] == "ranker"
    assert body["weights"] == {"buy": 0.0, "cart": 0.0, **weights}
    assert [i["item_id"] for i in body["items"]] == [bundle.item_ids[r] for r in rows[:k]]
    np.testing.assert_allclose([i["score"] for i in body["items"]], blended[:k], rtol=1e-6)
    for item in body["items"]:
        assert set(item["probabilities"]) == {"buy", "cart"}
        assert 0.0 <= min(item["probabilities"].values()) <= max(item["probabilities"].values())
        mean = sum(w * item["probabilities"][o] for o, w in weights.items()) / sum(weights.values())
        assert item["score"] == pytest.approx(mean, rel=1e-9)


def test_default_weights_rank_the_candidates_for_every_kind_of_user(ranked_client, ranked_bundle):
    bundle = load_bundle(ranked_bundle)
    known = ranked_client.post("/recommend", json={"user_id": "u3", "k": 10}).json()
    assert known["source"] == "personalized"
    # Known user: ranker input row + 1, seen items left out before ranking.
    _assert_ranked_as_expected(known, ranked_bundle, 4, _unseen(bundle, 3), DEFAULT_WEIGHTS, 10)
    seen = {bundle.item_ids[r] for r in bundle.seen_rows(3).tolist()}
    assert seen.isdisjoint(i["item_id"] for i in known["items"])

    # Cold start: a user the ranker does not know is its row 0, with or without a history.
    history = ranked_client.post(
        "/recommend", json={"user_id": "stranger", "history": ["i2", "i7"], "k": 10}
    ).json()
    assert history["source"] == "history"
    _assert_ranked_as_expected(
        history, ranked_bundle, 0, _unseen(bundle, None, {2, 7}), DEFAULT_WEIGHTS, 10
    )
    popular = ranked_client.post("/recommend", json={"user_id": "stranger", "k": 10}).json()
    assert popular["source"] == "popular"
    _assert_ranked_as_expected(
        popular, ranked_bundle, 0, _unseen(bundle, None), DEFAULT_WEIGHTS, 10
    )


def test_the_request_weights_decide_the_order(ranked_client, ranked_bundle):
    bundle = load_bundle(ranked_bundle)
    orders = {}
    for weights in ({"buy": 1.0}, {"cart": 1.0}, {"buy": 1.0, "cart": 0.2}, {"buy": 3, "cart": 1}):
        body = ranked_client.post(
            "/recommend", json={"user_id": "u5", "k": 10, "objectives": weights}
        ).json()
        _assert_ranked_as_expected(body, ranked_bundle, 6, _unseen(bundle, 5), weights, 10)
        orders[json.dumps(weights)] = [i["item_id"] for i in body["items"]]
    assert orders['{"buy": 1.0}'] != orders['{"cart": 1.0}']

    # The batch endpoint answers each query as /recommend does, with its own weights.
    queries = [
        {"user_id": "u5", "k": 10, "objectives": {"cart": 1.0}},
        {"user_id": "u5", "k": 10, "objectives": {"buy": 1.0}},
        {"user_id": "stranger", "history": ["i2", "i7"], "k": 4},
        {"user_id": "u9", "k": 6, "objectives": {"buy": 1.0, "cart": 1.0}},
    ]
    batch = ranked_client.post("/recommend/batch", json={"requests": queries}).json()
    for query, result in zip(queries, batch["results"]):
        assert result == ranked_client.post("/recommend", json=query).json()
    assert [i["item_id"] for i in batch["results"][0]["items"]] == orders['{"cart": 1.0}']


def test_candidates_are_the_retrieval_top_n_and_at_least_k(sqlite_url, bundle_root, ranked_bundle):
    bundle = load_bundle(ranked_bundle)
    settings = make_settings(sqlite_url, bundle_root, ranker_candidates=6)
    with TestClient(create_app(settings, bootstrap_bundle=ranked_bundle)) as client:
        user = 2
        scores = bundle.item_embeddings @ bundle.user_embeddings[user]
        scores[bundle.seen_rows(user)] = -np.inf
        retrieval = np.argsort(-scores, kind="stable")
        for k in (3, 6, 9):  # k above the setting: k candidates
            body = client.post("/recommend", json={"user_id": f"u{user}", "k": k}).json()
            candidates = [int(r) for r in retrieval[: max(6, k)]]
            _assert_ranked_as_expected(
                body, ranked_bundle, user + 1, candidates, DEFAULT_WEIGHTS, k
            )


def test_exclusions_apply_before_ranking(ranked_client, ranked_bundle):
    bundle = load_bundle(ranked_bundle)
    exclude = ["i1", "i4", "i9"]
    body = ranked_client.post(
        "/recommend",
        json={"user_id": "u0", "k": 12, "exclude_seen": False, "exclude": exclude},
    ).json()
    # Without seen-item exclusion the user's training items are candidates too.
    candidates = [r for r in range(bundle.num_items) if bundle.item_ids[r] not in exclude]
    _assert_ranked_as_expected(body, ranked_bundle, 1, candidates, DEFAULT_WEIGHTS, 12)
    everything = ranked_client.post("/recommend", json={"user_id": "u0", "k": 1000}).json()
    assert len(everything["items"]) == bundle.num_items - len(bundle.seen_rows(0))


@pytest.mark.parametrize(
    ("objectives", "expected"),
    [
        (
            {"click": 1.0},
            "objectives: 1 unknown objective name; this model's objectives are: buy, cart",
        ),
        ({"buy": 1.0, "like": 1, "view": 2}, "2 unknown objective names"),
    ],
)
def test_an_unknown_objective_is_a_422_naming_the_valid_ones(ranked_client, objectives, expected):
    response = ranked_client.post("/recommend", json={"user_id": "u1", "objectives": objectives})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert expected in detail and "buy, cart" in detail
    for name in set(objectives) - {"buy", "cart"}:
        assert name not in detail  # the client's names are not echoed
    batch = ranked_client.post(
        "/recommend/batch",
        json={"requests": [{"user_id": "u1"}, {"user_id": "u2", "objectives": objectives}]},
    )
    assert batch.status_code == 422
    assert batch.json()["detail"].startswith("requests.1.objectives: ")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"buy": -1}', "objectives.buy: Input should be greater than or equal to 0"),
        ('{"buy": 0, "cart": 0}', "objectives: at least one objective weight must be positive"),
        ("{}", "objectives: at least one objective weight must be positive"),
        ('{"buy": NaN}', "objectives.buy"),
        ('{"buy": Infinity}', "objectives.buy"),
        ('{"buy": -Infinity}', "objectives.buy"),
        ('{"buy": 1e400}', "objectives.buy"),
        ('{"buy": "1"}', "objectives.buy: Input should be a valid number"),
        ('{"buy": true}', "objectives.buy: Input should be a valid number"),
        ('{"buy": null}', "objectives.buy"),
        ('{"buy": [1]}', "objectives.buy"),
        ('[["buy", 1]]', "objectives: Input should be a valid dictionary"),
        ('"buy"', "objectives: Input should be a valid dictionary"),
        ('{"\\ud800": 1}', "surrogate"),
        ('{"a\\u0000b": 1}', "control character"),
        ('{"   ": 1}', "the id is blank"),
        ('{"": 1}', "the id is empty"),
        ('{"' + "x" * 65 + '": 1}', "longer than 64 characters"),
        ("{" + ", ".join(f'"o{i}": 1' for i in range(33)) + "}", "at most 32 items"),
    ],
)
def test_odd_weights_are_a_readable_422_without_echo(ranked_client, text, words):
    for path, body in (
        ("/recommend", f'{{"user_id": "u1", "objectives": {text}}}'),
        ("/recommend/batch", f'{{"requests": [{{"user_id": "u1", "objectives": {text}}}]}}'),
    ):
        response = _post_raw(ranked_client, path, body)
        answer = _assert_readable_422(response)
        assert words in answer["message"]
        assert "x" * 65 not in response.text  # a long name is cut, never sent back whole


def test_the_blend_of_huge_weights_is_finite(ranked_client):
    huge = ranked_client.post(
        "/recommend", json={"user_id": "u1", "objectives": {"buy": 1e308, "cart": 1e308}}
    )
    equal = ranked_client.post(
        "/recommend", json={"user_id": "u1", "objectives": {"buy": 1, "cart": 1}}
    )
    assert huge.status_code == 200
    assert [i["item_id"] for i in huge.json()["items"]] == [
        i["item_id"] for i in equal.json()["items"]
    ]
    assert all(0 <= i["score"] <= 1 for i in huge.json()["items"])


@pytest.mark.parametrize("format_version", [1, 2])
def test_a_bundle_without_a_ranker_answers_in_retrieval_order_and_says_so(
    sqlite_url, bundle_root, tmp_path, format_version
):
    path = write_random_bundle(bundle_root / f"plain-{tmp_path.name}", "plain", seed=4)
    if format_version == 1:  # what trainers before format 2 wrote
        manifest = json.loads((path / MANIFEST).read_text())
        manifest["format_version"] = 1
        (path / MANIFEST).write_text(json.dumps(manifest))
    try:
        settings = make_settings(sqlite_url, bundle_root)
        with TestClient(create_app(settings, bootstrap_bundle=path)) as client:
            plain = client.post("/recommend", json={"user_id": "u1", "k": 5}).json()
            weighted = client.post(
                "/recommend", json={"user_id": "u1", "k": 5, "objectives": {"buy": 1.0}}
            ).json()
            bundle = load_bundle(path)
            scores = bundle.item_embeddings @ bundle.user_embeddings[1]
            scores[bundle.seen_rows(1)] = -np.inf
            top = [bundle.item_ids[r] for r in np.argsort(-scores)[:5]]
            for body in (plain, weighted):
                assert body["ranked_by"] == "retrieval" and body["weights"] is None
                assert [i["item_id"] for i in body["items"]] == top
                assert all(i["probabilities"] is None for i in body["items"])
            cold = client.post(
                "/recommend/batch",
                json={"requests": [{"user_id": "new", "history": ["i3"], "objectives": {"x": 1}}]},
            )
            assert cold.status_code == 200
            assert cold.json()["results"][0]["ranked_by"] == "retrieval"
            bad = client.post("/recommend", json={"user_id": "u1", "objectives": {"buy": -1}})
            assert bad.status_code == 422  # the weights' own rules hold on every bundle
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_hot_swap_between_a_ranked_and_a_retrieval_bundle(ranked_client, bundle_v1):
    assert (
        ranked_client.post("/models", json={"path": str(bundle_v1)}, headers=ADMIN).status_code
        == 201
    )
    body = {"user_id": "u1", "k": 5, "objectives": {"cart": 1.0}}
    before = ranked_client.post("/recommend", json=body).json()
    assert (before["model_version"], before["ranked_by"]) == ("synthetic-ranked", "ranker")
    assert ranked_client.post("/models/synthetic-v1/activate", headers=ADMIN).status_code == 200
    after = ranked_client.post("/recommend", json=body).json()
    assert (after["model_version"], after["ranked_by"]) == ("synthetic-v1", "retrieval")
    assert ranked_client.post("/models/synthetic-ranked/activate", headers=ADMIN).status_code == 200
    assert ranked_client.post("/recommend", json=body).json() == before


def _other_catalogue_ranker(bundle_root, tmp_path) -> bytes:
    """A ranker trained for a 20-item catalogue (its item input has 21 rows)."""
    small = write_random_bundle(tmp_path / "small", "small", seed=5, num_items=20)
    build_ranked_bundles([{"source": small, "target": tmp_path / "small-ranked", "version": "s"}])
    return (tmp_path / "small-ranked" / RANKER).read_bytes()


@pytest.mark.parametrize(
    ("ranker", "reason"),
    [
        ("garbage", "the ranker cannot run"),
        ("user-encoder", "the ranker cannot run"),
        ("other-catalogue", "the ranker cannot run"),
    ],
)
def test_a_ranker_that_does_not_run_is_refused_and_the_old_model_keeps_serving(
    ranked_client, ranked_bundle, bundle_root, tmp_path, ranker, reason
):
    data = {
        "garbage": lambda: b"not an onnx graph",
        "user-encoder": lambda: (ranked_bundle / USER_ENCODER).read_bytes(),
        "other-catalogue": lambda: _other_catalogue_ranker(bundle_root, tmp_path),
    }[ranker]()
    version = f"bad-ranker-{ranker}-{tmp_path.name}"
    doctored = doctor_bundle(ranked_bundle, bundle_root / version, version, RANKER, data)
    try:
        registered = ranked_client.post("/models", json={"path": str(doctored)}, headers=ADMIN)
        assert registered.status_code == 201, registered.text  # checksums match: it verifies
        response = ranked_client.post(f"/models/{version}/activate", headers=ADMIN)
        assert response.status_code == 409, response.text
        assert reason in response.json()["detail"]
        assert "the serving model is kept" in response.json()["detail"]
        served = ranked_client.post("/recommend", json={"user_id": "u1"}).json()
        assert (served["model_version"], served["ranked_by"]) == ("synthetic-ranked", "ranker")
        assert ranked_client.get(f"/models/{version}").json()["status"] == "invalid"
    finally:
        shutil.rmtree(doctored, ignore_errors=True)


def _ranker_broken_for_user_input_1(ranked_bundle) -> bytes:
    """The bundle's ranker with ``p_cart`` divided by |user input - 1|: the same for the
    unknown user (0), smaller for the last user, infinite for the first user (input 1)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(ranked_bundle / RANKER))
    graph = model.graph
    for node in graph.node:
        node.output[:] = ["p_cart_raw" if name == "p_cart" else name for name in node.output]
    graph.node.extend(
        [
            helper.make_node("Slice", ["categorical", "zero", "one", "one"], ["user_column"]),
            helper.make_node("Reshape", ["user_column", "flat"], ["user"]),
            helper.make_node("Cast", ["user"], ["user_float"], to=TensorProto.FLOAT),
            helper.make_node("Sub", ["user_float", "one_float"], ["shifted"]),
            helper.make_node("Abs", ["shifted"], ["distance"]),
            helper.make_node("Div", ["p_cart_raw", "distance"], ["p_cart"]),
        ]
    )
    graph.initializer.extend(
        [
            helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
            helper.make_tensor("one", TensorProto.INT64, [1], [1]),
            helper.make_tensor("flat", TensorProto.INT64, [1], [-1]),
            helper.make_tensor("one_float", TensorProto.FLOAT, [], [1.0]),
        ]
    )
    return model.SerializeToString()


def test_the_warm_up_ranks_with_the_ranker(ranked_client, ranked_bundle, bundle_root, tmp_path):
    """A ranker that runs (the load probe's users score fine) but answers no probability for
    a known user is refused by the warm-up's ranked query for that user."""
    version = f"inf-ranker-{tmp_path.name}"
    data = _ranker_broken_for_user_input_1(ranked_bundle)
    doctored = doctor_bundle(ranked_bundle, bundle_root / version, version, RANKER, data)
    try:
        registered = ranked_client.post("/models", json={"path": str(doctored)}, headers=ADMIN)
        assert registered.status_code == 201
        response = ranked_client.post(f"/models/{version}/activate", headers=ADMIN)
        assert response.status_code == 409, response.text
        assert "warm-up query recommend (known user) failed" in response.json()["detail"]
        assert ranked_client.get("/readyz").json()["model_version"] == "synthetic-ranked"
    finally:
        shutil.rmtree(doctored, ignore_errors=True)
