"""Hot swap under load on a real uvicorn server, and refusal of a corrupted bundle."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import ITEM_EMBEDDINGS, BundleError
from tests.service.conftest import ADMIN, LiveServer, make_settings, write_random_bundle

CLIENT_THREADS = 4
SWAPS = 6


def _expected_answers(client: httpx.Client, users: list[str]) -> dict[str, list[str]]:
    response = client.post(
        "/recommend/batch", json={"requests": [{"user_id": u, "k": 5} for u in users]}
    )
    return {r["user_id"]: [i["item_id"] for i in r["items"]] for r in response.json()["results"]}


def test_activation_under_load_fails_no_request(database_url, bundle_root, bundle_v1, bundle_v2):
    app = create_app(make_settings(database_url, bundle_root), bootstrap_bundle=bundle_v1)
    users = [f"u{i}" for i in range(10)]
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as admin:
        assert (
            admin.post("/models", json={"path": str(bundle_v2)}, headers=ADMIN).status_code == 201
        )
        # What each version answers, so that a response can be checked against its version.
        expected = {"synthetic-v1": _expected_answers(admin, users)}
        admin.post("/models/synthetic-v2/activate", headers=ADMIN).raise_for_status()
        expected["synthetic-v2"] = _expected_answers(admin, users)
        assert expected["synthetic-v1"] != expected["synthetic-v2"]
        admin.post("/models/synthetic-v1/activate", headers=ADMIN).raise_for_status()

        stop = threading.Event()
        failures: list[str] = []
        served: Counter[str] = Counter()
        lock = threading.Lock()

        def load(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                n = 0
                while not stop.is_set():
                    user = users[(worker + n) % len(users)]
                    n += 1
                    try:
                        response = client.post("/recommend", json={"user_id": user, "k": 5})
                        body = response.json()
                        items = [i["item_id"] for i in body["items"]]
                        ok = (
                            response.status_code == 200
                            and items == expected[body["model_version"]][user]
                        )
                        result = body["model_version"] if ok else f"bad answer {body}"
                    except Exception as error:  # a failed request is what this test hunts
                        result = f"{type(error).__name__}: {error}"
                    with lock:
                        if result.startswith("synthetic-"):
                            served[result] += 1
                        else:
                            failures.append(result)

        workers = [threading.Thread(target=load, args=(w,)) for w in range(CLIENT_THREADS)]
        for worker in workers:
            worker.start()
        try:
            for swap in range(SWAPS):
                target = "synthetic-v2" if swap % 2 == 0 else "synthetic-v1"
                response = admin.post(f"/models/{target}/activate", headers=ADMIN)
                assert response.status_code == 200, response.text
                # Every request sent after the swap returned is answered by the new version.
                for user in users[:3]:
                    after = admin.post("/recommend", json={"user_id": user, "k": 5}).json()
                    assert after["model_version"] == target
                    assert [i["item_id"] for i in after["items"]] == expected[target][user]
                time.sleep(0.1)  # let the load run on this version before the next swap
                metrics = admin.get("/metrics").text
                assert f'pmtrec_active_model_info{{model_version="{target}"}} 1.0' in metrics
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=30)

    assert failures == []
    assert served["synthetic-v1"] > 0 and served["synthetic-v2"] > 0
    print(f"\nhot swap: {sum(served.values())} requests, {SWAPS} swaps, 0 failed; {dict(served)}")


def test_corrupted_bundle_is_refused_and_old_model_keeps_serving(
    sqlite_url, bundle_root, bundle_v1, tmp_path
):
    corrupt = write_random_bundle(bundle_root / "v3-corrupt", "synthetic-v3", seed=3)
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=bundle_v1)
    try:
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
            assert (
                client.post("/models", json={"path": str(corrupt)}, headers=ADMIN).status_code
                == 201
            )
            # Flip bytes of the item matrix after registration (e.g. a bad copy to storage).
            data = bytearray((corrupt / ITEM_EMBEDDINGS).read_bytes())
            data[-8:] = bytes(255 - b for b in data[-8:])
            (corrupt / ITEM_EMBEDDINGS).write_bytes(bytes(data))

            response = client.post("/models/synthetic-v3/activate", headers=ADMIN)
            assert response.status_code == 409
            detail = response.json()["detail"]
            assert "item_embeddings.npy is corrupted" in detail
            assert "serving model is kept" in detail

            after = client.post("/recommend", json={"user_id": "u1"})
            assert after.status_code == 200
            assert after.json()["model_version"] == "synthetic-v1"
            version = client.get("/models/synthetic-v3").json()
            assert version["status"] == "invalid" and "corrupted" in version["error"]
            assert client.get("/models").json()["active_version"] == "synthetic-v1"

            # A corrupted bundle is refused at registration too.
            copy = shutil.copytree(corrupt, bundle_root / "v3-copy", dirs_exist_ok=True)
            refused = client.post("/models", json={"path": str(copy)}, headers=ADMIN)
            assert refused.status_code == 409 and "corrupted" in refused.json()["detail"]
    finally:
        shutil.rmtree(corrupt, ignore_errors=True)
        shutil.rmtree(bundle_root / "v3-copy", ignore_errors=True)


@pytest.mark.parametrize("missing", ["manifest.json", "user_encoder.onnx"])
def test_start_up_bundle_that_does_not_verify_is_an_error(
    sqlite_url, bundle_root, tmp_path, missing
):
    broken = write_random_bundle(tmp_path / "broken", "synthetic-broken", seed=4)
    (broken / missing).unlink()
    app = create_app(make_settings(sqlite_url, bundle_root), bootstrap_bundle=broken)
    with pytest.raises(BundleError, match=missing.replace(".", r"\.")), TestClient(app):
        pass


def test_restart_with_a_corrupted_active_bundle_serves_nothing_and_says_why(
    sqlite_url, bundle_root, tmp_path
):
    bundle = write_random_bundle(tmp_path / "active", "synthetic-restart", seed=5)
    settings = make_settings(sqlite_url, bundle_root)
    with TestClient(create_app(settings, bootstrap_bundle=bundle)) as client:
        assert client.get("/readyz").status_code == 200
    (bundle / ITEM_EMBEDDINGS).write_bytes(b"not a matrix")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "synthetic-restart cannot be loaded" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/models").json()["versions"][0]["status"] == "active"
