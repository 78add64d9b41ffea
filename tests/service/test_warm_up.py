"""A bundle that verifies but cannot answer is refused at activation (issue 13 item 7)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from shared.bundle import ITEM_IDS, ITEM_POPULARITY, MANIFEST
from tests.service.conftest import ADMIN


def doctor_bundle(source: Path, target: Path, version: str, name: str, data: bytes) -> Path:
    """A copy of ``source`` with file ``name`` replaced and the manifest's checksum updated to
    match, so that the bundle still verifies."""
    shutil.copytree(source, target)
    (target / name).write_bytes(data)
    manifest = json.loads((target / MANIFEST).read_text())
    manifest["model_version"] = version
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (target / MANIFEST).write_text(json.dumps(manifest))
    return target


def _integer_ids(bundle: Path) -> bytes:
    count = len(json.loads((bundle / ITEM_IDS).read_text()))
    return json.dumps(list(range(count))).encode()


def _nan_popularity(bundle: Path) -> bytes:
    popularity = np.load(bundle / ITEM_POPULARITY)
    popularity[:] = np.nan
    buffer = io.BytesIO()
    np.save(buffer, popularity, allow_pickle=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("doctoring", "file_name"),
    [(_integer_ids, ITEM_IDS), (_nan_popularity, ITEM_POPULARITY)],
    ids=["integer-item-ids", "nan-popularity"],
)
def test_a_bundle_that_cannot_serve_is_refused_and_the_old_model_keeps_serving(
    client, bundle_root, bundle_v1, tmp_path, doctoring, file_name
):
    version = f"doctored-{doctoring.__name__.strip('_')}-{tmp_path.name}"
    doctored = doctor_bundle(
        bundle_v1, bundle_root / version, version, file_name, doctoring(bundle_v1)
    )
    try:
        registered = client.post("/models", json={"path": str(doctored)}, headers=ADMIN)
        assert registered.status_code == 201, registered.text  # it verifies: checksums match
        response = client.post(f"/models/{version}/activate", headers=ADMIN)
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert "warm-up" in detail and "the serving model is kept" in detail

        assert client.get("/models").json()["active_version"] == "synthetic-v1"
        row = client.get(f"/models/{version}").json()
        assert row["status"] == "invalid" and "warm-up" in row["error"]
        for body in ({"user_id": "u1"}, {"user_id": "new"}, {"user_id": "new", "history": ["i1"]}):
            answer = client.post("/recommend", json=body)
            assert answer.status_code == 200
            assert answer.json()["model_version"] == "synthetic-v1"
        assert client.get("/readyz").json()["model_version"] == "synthetic-v1"
    finally:
        shutil.rmtree(doctored, ignore_errors=True)
