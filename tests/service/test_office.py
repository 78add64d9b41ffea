"""Acceptance on a bundle trained on the real Office data (skipped without PMTREC_DATA_DIR).

1. The exact index's top-K equals a numpy brute-force top-K for every Office user, with and
   without seen-item exclusion; with exclusion no training item is ever returned.
2. Cold start: a user's own training items sent as ``history`` under an unknown id give a
   list that overlaps the user's ``personalized`` list; the encoder matches its numpy form.
3. ``python -m service --bundle`` serves the bundle, its printed example request works, and
   the process never imports torch (checked with ``python -X importtime``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.registry import LoadedModel
from shared.bundle import load_bundle
from shared.user_encoder import fold_in
from tests.service.conftest import REPO, make_settings

pytestmark = pytest.mark.real_data

K = 20
BATCH = 100  # PMTREC_MAX_BATCH_SIZE by default (100 x k=20 = 2000 items per batch)
SCORE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def office(office_bundle, tmp_path_factory):
    bundle = load_bundle(office_bundle)
    root = tmp_path_factory.mktemp("office-service")
    settings = make_settings(f"sqlite:///{root / 'db.sqlite'}", office_bundle.parent)
    with TestClient(create_app(settings, bootstrap_bundle=office_bundle)) as client:
        yield client, bundle


def _batched(client: TestClient, requests: list[dict]) -> list[dict]:
    results = []
    for start in range(0, len(requests), BATCH):
        response = client.post(
            "/recommend/batch", json={"requests": requests[start : start + BATCH]}
        )
        assert response.status_code == 200, response.text
        results.extend(response.json()["results"])
    return results


def _brute_force_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_exact_index_equals_numpy_brute_force_for_every_user(office, exclude_seen):
    client, bundle = office
    assert client.get("/readyz").json()["index_kind"] == "exact"
    scores = bundle.user_embeddings @ bundle.item_embeddings.T
    seen_pairs = set()
    if exclude_seen:
        for user in range(bundle.num_users):
            rows = bundle.seen_rows(user)
            scores[user, rows] = -np.inf
            seen_pairs.update((user, int(r)) for r in rows)
    expected_rows = _brute_force_top_k(scores, K)
    requests = [{"user_id": uid, "k": K, "exclude_seen": exclude_seen} for uid in bundle.user_ids]
    results = _batched(client, requests)
    assert len(results) == bundle.num_users == 4905

    mismatches = 0
    for user, result in enumerate(results):
        assert result["source"] == "personalized"
        rows = np.array([bundle.item_rows[i["item_id"]] for i in result["items"]])
        got = np.array([i["score"] for i in result["items"]])
        assert len(rows) == K and len(set(rows.tolist())) == K
        want = scores[user, expected_rows[user]]
        # Same scores in the same order, each the true inner product of its item.
        np.testing.assert_allclose(got, want, atol=SCORE_TOLERANCE)
        np.testing.assert_allclose(got, scores[user, rows], atol=SCORE_TOLERANCE)
        if exclude_seen:
            assert not any((user, int(r)) in seen_pairs for r in rows)
        # Same items, up to ties at the cut-off (equal scores may come in either order).
        differing = set(rows.tolist()) ^ set(expected_rows[user].tolist())
        if differing:
            mismatches += 1
            assert np.all(np.abs(scores[user, list(differing)] - want[-1]) <= SCORE_TOLERANCE)
    print(
        f"\nexact top-{K} vs numpy, exclude_seen={exclude_seen}: {len(results)} users, "
        f"{mismatches} differ only by ties at the cut-off"
    )


def test_cold_start_history_overlaps_personalized_list(office, record_property):
    client, bundle = office
    k = 10
    users = [u for u in range(bundle.num_users) if len(bundle.seen_rows(u))]
    personalized = _batched(client, [{"user_id": bundle.user_ids[u], "k": k} for u in users])
    cold = _batched(
        client,
        [
            {
                "user_id": f"cold-start-{bundle.user_ids[u]}",
                "k": k,
                "history": [bundle.item_ids[r] for r in bundle.seen_rows(u).tolist()],
            }
            for u in users
        ],
    )
    overlaps = []
    for user, known, unknown in zip(users, personalized, cold):
        assert unknown["source"] == "history" and unknown["unknown_history_items"] == []
        assert len(unknown["items"]) == k
        returned = {i["item_id"] for i in unknown["items"]}
        assert not returned & {bundle.item_ids[r] for r in bundle.seen_rows(user).tolist()}
        overlaps.append(len(returned & {i["item_id"] for i in known["items"]}) / k)
    mean_overlap = float(np.mean(overlaps))
    share_with_overlap = float(np.mean(np.array(overlaps) > 0))
    record_property("cold_start_overlap_at_10", mean_overlap)
    print(
        f"\ncold start over {len(users)} Office users: mean overlap@{k} with the personalized "
        f"list {mean_overlap:.3f}; {share_with_overlap:.1%} of users share at least one item"
    )
    assert mean_overlap > 0
    assert share_with_overlap > 0.5


def test_onnx_encoder_matches_numpy_fold_in(office_bundle):
    bundle = load_bundle(office_bundle)
    scale = float(bundle.manifest["user_encoder"]["scale"])
    model = LoadedModel.load(office_bundle, make_settings("sqlite://", office_bundle.parent))
    for user in range(0, bundle.num_users, 490):
        rows = bundle.seen_rows(user)
        np.testing.assert_allclose(
            model.encoder.encode(rows), fold_in(bundle.item_embeddings, rows, scale), atol=1e-5
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_serves_the_bundle_and_never_imports_torch(office_bundle, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PMTREC_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    imports_log = tmp_path / "imports.log"
    with open(imports_log, "w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "service",
                "--bundle",
                str(office_bundle),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            banner = process.stdout.readline() + process.stdout.readline()
            curl = re.search(r"curl .*", banner)
            assert curl, f"no example request printed: {banner!r}"
            words = shlex.split(curl.group(0))
            url, body = words[words.index("-X") + 2], json.loads(words[words.index("-d") + 1])
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=10) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert process.poll() is None, "the service exited"
                    assert time.monotonic() < deadline, "the service did not become ready"
                    time.sleep(0.2)
                example = client.post(url, json=body)
                assert example.status_code == 200
                assert example.json()["source"] == "personalized"
                cold = client.post("/recommend", json={"user_id": "nobody", "history": ["0", "1"]})
                assert cold.json()["source"] == "history"
                assert client.get("/items/0/similar").status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in imports_log.read_text().splitlines()
        if line.startswith("import time:")
    }
    assert "fastapi" in imported and "faiss" in imported and "onnxruntime" in imported
    forbidden = sorted(m for m in imported if m.split(".")[0] in ("torch", "trainer"))
    assert forbidden == [], f"the service process imported {forbidden}"
