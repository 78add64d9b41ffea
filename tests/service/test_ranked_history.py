"""A ranker that reads history features (the user's other behaviors on the item): the
service feeds it the pairs the bundle carries, exactly as the trainer evaluated it.

Expected orders come from onnxruntime run here on the bundle's own files
(tests/service/ranked_bundle.py ``history_features``), not from the service's code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import RANKER_HISTORY, BundleError, load_bundle, load_ranker_history
from tests.service.conftest import make_settings
from tests.service.ranked_bundle import build_ranked_bundles, history_features
from tests.service.test_ranked_recommend import _assert_ranked_as_expected, _unseen

WEIGHTS = {"buy": 1.0, "cart": 0.5}


@pytest.fixture(scope="module")
def history_bundle(bundle_root, bundle_v1) -> Path:
    target = bundle_root / "ranked-history"
    if not target.exists():
        build_ranked_bundles(
            [
                {
                    "source": bundle_v1,
                    "target": target,
                    "version": "synthetic-ranked-history",
                    "history": True,
                    "seed": 5,
                }
            ]
        )
    return target


@pytest.fixture
def history_client(sqlite_url, bundle_root, history_bundle) -> Iterator[TestClient]:
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=history_bundle)
    with TestClient(app) as client:
        yield client


def test_the_ranker_is_fed_the_users_carts(history_client, history_bundle):
    bundle = load_bundle(history_bundle)
    assert bundle.ranker["inputs"]["numeric"] == ["history:cart"]
    carts = load_ranker_history(bundle)["cart"]
    for row in (3, 8):
        candidates = _unseen(bundle, row)
        body = history_client.post(
            "/recommend", json={"user_id": bundle.user_ids[row], "k": 10, "objectives": WEIGHTS}
        ).json()
        _assert_ranked_as_expected(body, history_bundle, row + 1, candidates, WEIGHTS, 10)
        # The features matter: without them the same ranker orders the candidates otherwise.
        features = history_features(history_bundle, row + 1, np.array(candidates))
        carted = set(carts[1][carts[0][row] : carts[0][row + 1]].tolist())
        assert features[:, 0].tolist() == [float(c in carted) for c in candidates]
        assert features.any()
        # The features matter: the carted candidates' scores move, the others' do not.
        with_carts = _blended(history_bundle, row + 1, candidates, features)
        blind = _blended(history_bundle, row + 1, candidates, np.zeros_like(features))
        moved = np.abs(with_carts - blind) > 1e-6
        assert moved.tolist() == features[:, 0].astype(bool).tolist()
    # A cold-start user has no carts the ranker knows: all features 0.
    cold = history_client.post(
        "/recommend", json={"user_id": "stranger", "history": ["i2"], "k": 5, "objectives": WEIGHTS}
    ).json()
    assert cold["source"] == "history"
    _assert_ranked_as_expected(cold, history_bundle, 0, _unseen(bundle, None, {2}), WEIGHTS, 5)


def _blended(bundle: Path, user_input: int, item_rows, features: np.ndarray) -> np.ndarray:
    import json

    import onnxruntime as ort

    manifest = json.loads((bundle / "manifest.json").read_text())["ranker"]
    session = ort.InferenceSession(str(bundle / "ranker.onnx"))
    items = np.asarray(item_rows, dtype=np.int64)
    feeds = {
        "categorical": np.stack([np.full_like(items, user_input), items + 1], axis=1),
        "numeric": features,
    }
    outputs = session.run([manifest["outputs"][o] for o in ("buy", "cart")], feeds)
    total = sum(WEIGHTS.values())
    return WEIGHTS["buy"] / total * outputs[0] + WEIGHTS["cart"] / total * outputs[1]


def test_a_bundle_whose_history_file_is_damaged_is_refused(history_bundle, tmp_path):
    import shutil

    copy = tmp_path / "damaged"
    shutil.copytree(history_bundle, copy)
    (copy / RANKER_HISTORY).unlink()
    with pytest.raises(BundleError, match=r"ranker_history\.npz is missing"):
        load_bundle(copy)
