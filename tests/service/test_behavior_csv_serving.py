"""Bring your own behaviors, end to end: a CSV user,item,behavior,timestamp with string ids
trains both stages through the trainer CLI (a subprocess: this process never imports
torch), and the service answers /recommend by objective from the bundle it writes.

The expected orders are recomputed here with onnxruntime on the bundle's ranker.onnx
(tests/service/ranked_bundle.py), not through the service's code."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import load_bundle, load_ranker_history
from tests.service.conftest import REPO, make_settings
from tests.service.ranked_bundle import ranker_probabilities

OBJECTIVES = ["buy", "cart", "view"]  # the target first, then the others in name order


def write_behavior_csv(path: Path) -> Path:
    """40 users in three taste groups of 20 items; each views 12 of its group's items, carts
    8 of them and buys 5. Ids are strings the loader must keep as they are ("0042" is not
    the number 42)."""
    rng = random.Random(7)
    users = [f"u_{u}" for u in range(40)]
    items = [f"sku-a{i}" for i in range(59)] + ["0042"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "behavior", "timestamp"])
        stamp = 0
        for u, user in enumerate(users):
            group = items[(u % 3) * 20 : (u % 3) * 20 + 20]
            for position, item in enumerate(rng.sample(group, 12)):
                stamp += 1
                writer.writerow([user, item, "view", stamp])
                if position < 8:
                    writer.writerow([user, item, "cart", stamp])
                if position < 5:
                    writer.writerow([user, item, "buy", stamp])
    return path


@pytest.fixture(scope="module")
def behavior_bundle(tmp_path_factory) -> tuple[Path, Path]:
    """The CSV and the two-stage bundle ``python -m trainer.fit --dataset csv --ranker mmoe``
    writes from it (few epochs, tiny dimensions)."""
    root = tmp_path_factory.mktemp("behaviors")
    events = write_behavior_csv(root / "events.csv")
    out = root / "bundle"
    command = [
        sys.executable,
        "-m",
        "trainer.fit",
        "--dataset",
        "csv",
        "--interactions",
        str(events),
        "--target-behavior",
        "buy",
        "--method",
        "bpr",
        "--epochs",
        "3",
        "--dim",
        "8",
        "--ranker",
        "mmoe",
        "--ranker-epochs",
        "4",
        "--negative-ratio",
        "2",
        "--seed",
        "0",
        "--out",
        str(out),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"trainer.fit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return events, out


@pytest.fixture
def behavior_client(sqlite_url, bundle_root, behavior_bundle) -> Iterator[TestClient]:
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=behavior_bundle[1])
    with TestClient(app) as client:
        yield client


def _rows(events: Path, user: str, behavior: str) -> set[str]:
    with events.open(newline="") as handle:
        return {
            r["item"]
            for r in csv.DictReader(handle)
            if (r["user"], r["behavior"]) == (user, behavior)
        }


def _blend(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total = sum(weights.values())
    return sum(w / total * probabilities[name] for name, w in weights.items())


def _assert_ranked_by_blend(body, bundle, user_row, weights, k):
    """The answer is the top k of the user's unseen items by the blended probabilities,
    best first, each with its probabilities; returns the answered item ids."""
    seen = set(bundle.seen_rows(user_row).tolist())
    unseen = [row for row in range(bundle.num_items) if row not in seen]
    probabilities = ranker_probabilities(bundle.path, user_row + 1, unseen)
    blended = dict(zip(unseen, _blend(probabilities, weights).tolist()))
    answered = [bundle.item_rows[item["item_id"]] for item in body["items"]]
    assert body["ranked_by"] == "ranker" and len(answered) == k
    assert body["weights"] == {name: weights.get(name, 0.0) for name in OBJECTIVES}
    scores = [item["score"] for item in body["items"]]
    np.testing.assert_allclose(scores, [blended[row] for row in answered], rtol=1e-6)
    assert scores == sorted(scores, reverse=True)
    # Nothing left out scores above the last answered item (the order is the blend's).
    left_out = [blended[row] for row in unseen if row not in answered]
    assert max(left_out) <= scores[-1] + 1e-9
    for item, row in zip(body["items"], answered):
        expected = {name: probabilities[name][unseen.index(row)] for name in OBJECTIVES}
        assert item["probabilities"] == pytest.approx(expected, rel=1e-6)
    return [item["item_id"] for item in body["items"]]


@pytest.mark.slow  # the trainer subprocess: torch's import and both stages' few epochs
def test_a_string_id_behavior_csv_trains_both_stages_and_serves_by_objective(
    behavior_client, behavior_bundle
):
    events, path = behavior_bundle
    bundle = load_bundle(path)
    assert bundle.ranker["objectives"] == OBJECTIVES and bundle.ranker["target"] == "buy"
    user = "u_17"
    user_row = bundle.user_rows[user]
    bought = _rows(events, user, "buy")
    # The bundle's seen items are the user's own training buys, under the CSV's ids.
    seen = {bundle.item_ids[row] for row in bundle.seen_rows(user_row).tolist()}
    assert seen and seen <= bought
    # The ranker reads the user's other behaviors on each candidate (the defaults), and the
    # bundle carries them under the CSV's ids.
    assert bundle.ranker["inputs"]["numeric"] == ["history:cart", "history:view"]
    history = load_ranker_history(bundle)
    indptr, indices = history["cart"]
    carted = {bundle.item_ids[r] for r in indices[indptr[user_row] : indptr[user_row + 1]]}
    assert carted == _rows(events, user, "cart")

    k = 10
    by_buy = behavior_client.post(
        "/recommend", json={"user_id": user, "k": k, "objectives": {"buy": 1.0, "cart": 0.2}}
    )
    assert by_buy.status_code == 200
    body = by_buy.json()
    assert body["user_id"] == user and body["source"] == "personalized"
    catalogue = {f"sku-a{i}" for i in range(59)} | {"0042"}
    assert {item["item_id"] for item in body["items"]} <= catalogue
    assert not seen & {item["item_id"] for item in body["items"]}
    buy_order = _assert_ranked_by_blend(body, bundle, user_row, {"buy": 1.0, "cart": 0.2}, k)

    # Another blend: another order, consistent with its own weights.
    by_view = behavior_client.post(
        "/recommend", json={"user_id": user, "k": k, "objectives": {"view": 1.0}}
    )
    assert by_view.status_code == 200
    view_order = _assert_ranked_by_blend(by_view.json(), bundle, user_row, {"view": 1.0}, k)
    assert view_order != buy_order

    # "0042" stays the string it is: left out for a user who bought it in training, answered
    # (by the default weights: the target alone) to a user who did not.
    assert "0042" in bundle.item_rows
    bought_0042 = 0
    for other in bundle.user_ids:
        other_seen = {bundle.item_ids[r] for r in bundle.seen_rows(bundle.user_rows[other])}
        everything = bundle.num_items - len(other_seen)
        answer = behavior_client.post("/recommend", json={"user_id": other, "k": everything})
        assert answer.status_code == 200
        assert answer.json()["weights"] == {"buy": 1.0, "cart": 0.0, "view": 0.0}
        answered = {item["item_id"] for item in answer.json()["items"]}
        assert answered == set(bundle.item_ids) - other_seen
        bought_0042 += "0042" in other_seen
    assert 0 < bought_0042 < len(bundle.user_ids)

    unknown = behavior_client.post(
        "/recommend", json={"user_id": user, "objectives": {"click": 1.0}}
    )
    assert unknown.status_code == 422
    assert "objectives are: buy, cart, view" in unknown.json()["detail"]
