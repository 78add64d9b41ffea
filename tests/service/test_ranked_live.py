"""Issue 16, acceptance 2: a real uvicorn process (``python -m service``) serving a two-stage
bundle orders its answers exactly as the blended probabilities say, computed here with
onnxruntime on the bundle's ranker.onnx, and changing the weights changes the order. The
process ranks without importing torch."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import numpy as np

from shared.bundle import load_bundle
from tests.service.conftest import REPO
from tests.service.ranked_bundle import expected_order
from tests.service.test_office import _free_port


def test_a_live_server_orders_by_the_requested_blend(ranked_bundle, tmp_path):
    bundle = load_bundle(ranked_bundle)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PMTREC_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "PMTREC_BUNDLE_ROOT": str(ranked_bundle.parent),
    }
    command = [sys.executable, "-X", "importtime", "-m", "service", "--bundle", str(ranked_bundle)]
    imports_log = tmp_path / "imports.log"
    with open(imports_log, "w") as stderr:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--log-level", "warning"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
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
                orders = {}
                for user in (0, 7, 21):
                    seen = set(bundle.seen_rows(user).tolist())
                    candidates = [r for r in range(bundle.num_items) if r not in seen]
                    for weights in (
                        {"buy": 1.0},
                        {"cart": 1.0},
                        {"buy": 1.0, "cart": 0.2},
                        {"buy": 0.2, "cart": 1.0},
                    ):
                        body = {"user_id": f"u{user}", "k": 10, "objectives": weights}
                        answer = client.post("/recommend", json=body)
                        assert answer.status_code == 200, answer.text
                        answer = answer.json()
                        rows, blended = expected_order(ranked_bundle, user + 1, candidates, weights)
                        assert np.min(np.abs(np.diff(blended[:11]))) > 1e-6  # no near-tie
                        got = [i["item_id"] for i in answer["items"]]
                        assert answer["ranked_by"] == "ranker"
                        assert got == [bundle.item_ids[r] for r in rows[:10]]
                        np.testing.assert_allclose(
                            [i["score"] for i in answer["items"]], blended[:10], rtol=1e-6
                        )
                        orders[(user, tuple(weights.items()))] = got
                    # The weights change the order (and so the answer follows them).
                    assert orders[(user, (("buy", 1.0),))] != orders[(user, (("cart", 1.0),))]
        finally:
            process.terminate()
            process.wait(timeout=30)
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in imports_log.read_text().splitlines()
        if line.startswith("import time:")
    }
    assert "onnxruntime" in imported and "service.ranker.onnx_ranker" in imported
    assert sorted(m for m in imported if m.split(".")[0] in ("torch", "trainer")) == []
