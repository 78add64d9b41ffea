"""Acceptance 4: a CSV with string ids, trained by ``python -m trainer.fit``, exported, and
served: the service answers with the user's own ids."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from shared.bundle import load_bundle
from shared.settings import Settings
from tests.conftest import REPO
from tests.data.conftest import write_text

USERS = [f"customer-{n:03d}@shop.example" for n in range(40)]
ITEMS = [f"SKU «{n}» blue, size M" for n in range(25)]


@pytest.fixture(scope="module")
def csv_bundle(tmp_path_factory):
    """Two taste groups: even users like the first 12 items, odd users the others."""
    root = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    lines = ["user,item,rating,timestamp"]
    for u, user in enumerate(USERS):
        liked = range(0, 12) if u % 2 == 0 else range(12, 25)
        for i in rng.choice(list(liked), 8, replace=False):
            lines.append(f'{user},"{ITEMS[i]}",{rng.integers(4, 6)},{1_600_000_000 + i}')
        lines.append(f'{user},"{ITEMS[(u * 7) % 25]}",1,{1_600_000_100}')
    interactions = write_text(root / "ratings.csv", "\n".join(lines) + "\n")
    pairs = write_text(
        root / "items.csv",
        "\n".join(f'"{ITEMS[i]}","{ITEMS[i + 1]}"' for i in range(24) if i != 11) + "\n",
    )
    out = root / "bundle"
    command = [
        sys.executable, "-m", "trainer.fit", "--dataset", "csv", "--interactions",
        str(interactions), "--item-pairs", str(pairs), "--out", str(out), "--epochs", "2",
        "--no-progress", "--batch-size", "64",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "item_pairs" in done.stderr  # the auxiliary task trained (per-task loss logged)
    return out


def test_bundle_maps_rows_to_the_users_own_ids(csv_bundle):
    bundle = load_bundle(csv_bundle)
    assert sorted(bundle.user_ids) == sorted(USERS) and sorted(bundle.item_ids) == sorted(ITEMS)
    assert bundle.manifest["dataset"] == "csv"
    assert bundle.manifest["dataset_stats"]["link:item_pairs:pairs"] == 23


def test_service_answers_with_the_users_own_ids(csv_bundle, tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'service.db'}", bundle_root=csv_bundle.parent
    )
    bundle = load_bundle(csv_bundle)
    user = USERS[3]
    row = bundle.user_rows[user]
    seen = {
        bundle.item_ids[i]
        for i in bundle.seen_indices[bundle.seen_indptr[row] : bundle.seen_indptr[row + 1]]
    }
    with TestClient(create_app(settings, bootstrap_bundle=csv_bundle)) as client:
        response = client.post("/recommend", json={"user_id": user, "k": 5})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user_id"] == user and body["source"] == "personalized"
        returned = [entry["item_id"] for entry in body["items"]]
        assert len(returned) == 5 and set(returned) <= set(ITEMS)
        assert not set(returned) & seen
        cold = client.post(
            "/recommend", json={"user_id": "new@shop.example", "history": [ITEMS[0]]}
        )
        assert cold.status_code == 200 and cold.json()["source"] == "history"
        assert all(entry["item_id"] in ITEMS for entry in cold.json()["items"])
