"""Fixtures of the service tests: databases (SQLite, PostgreSQL), bundles, apps and servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from service.app import create_app
from shared.bundle import write_bundle
from shared.settings import Settings
from shared.user_encoder import build_user_encoder

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package in its test client; httpx works the same here.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
API_KEY = "test-client-api-key"
CLIENT = {"X-API-Key": API_KEY}

# Small synthetic catalog for mechanics (quality is measured on the real Office bundle).
NUM_USERS, NUM_ITEMS, DIM = 30, 50, 8


# -- databases -------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh empty database: a SQLite file, or a private schema in PMTREC_TEST_DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    base = os.environ.get("PMTREC_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PMTREC_TEST_DATABASE_URL is not set")
    schema = f"svc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL at PMTREC_TEST_DATABASE_URL is not reachable: {error}")
    url = sa.engine.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


# -- bundles ---------------------------------------------------------------------------------
def write_random_bundle(
    path: Path,
    version: str,
    seed: int,
    *,
    num_users: int = NUM_USERS,
    num_items: int = NUM_ITEMS,
    dim: int = DIM,
    dataset: str = "synthetic",
) -> Path:
    """A small valid bundle with random vectors; users have 3..6 seen items."""
    rng = np.random.default_rng(seed)
    users = rng.normal(size=(num_users, dim)).astype(np.float32)
    items = rng.normal(size=(num_items, dim)).astype(np.float32)
    seen = [
        np.sort(rng.choice(num_items, rng.integers(3, 7), replace=False)) for _ in range(num_users)
    ]
    indptr = np.concatenate([[0], np.cumsum([len(s) for s in seen])])
    indices = np.concatenate(seen)
    popularity = np.bincount(indices, minlength=num_items).astype(np.float32)
    scale = float(np.median(np.linalg.norm(users, axis=1)))
    return write_bundle(
        path,
        model_version=version,
        dataset=dataset,
        method="test",
        hyperparameters={"seed": seed},
        metrics={"test": {"recall@20": 0.0}},
        user_embeddings=users,
        item_embeddings=items,
        user_ids=[f"u{i}" for i in range(num_users)],
        item_ids=[f"i{i}" for i in range(num_items)],
        seen_indptr=indptr,
        seen_indices=indices,
        item_popularity=popularity,
        user_encoder_onnx=build_user_encoder(items, scale),
        overwrite=True,
    )


@pytest.fixture(scope="session")
def bundle_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bundles")


@pytest.fixture(scope="session")
def bundle_v1(bundle_root) -> Path:
    return write_random_bundle(bundle_root / "v1", "synthetic-v1", seed=1)


@pytest.fixture(scope="session")
def bundle_v2(bundle_root) -> Path:
    return write_random_bundle(bundle_root / "v2", "synthetic-v2", seed=2)


@pytest.fixture(scope="session")
def ranked_bundle(bundle_root, bundle_v1) -> Path:
    """``bundle_v1``'s retrieval arrays with an MMoE ranker (objectives buy, cart; default
    weights buy 1, cart 0.5), built in a subprocess (tests/service/ranked_bundle.py)."""
    from tests.service.ranked_bundle import build_ranked_bundles

    target = bundle_root / "ranked"
    build_ranked_bundles(
        [
            {
                "source": bundle_v1,
                "target": target,
                "version": "synthetic-ranked",
                "default_weights": {"cart": 0.5},
            }
        ]
    )
    return target


@pytest.fixture(scope="session")
def office_data_dir() -> Path:
    """The real datasets' folder (PMTREC_DATA_DIR); the test is skipped without Office."""
    value = os.environ.get("PMTREC_DATA_DIR")
    if not value or not (Path(value) / "office").is_dir():
        pytest.skip("PMTREC_DATA_DIR does not point at the real datasets (office/ missing)")
    return Path(value)


@pytest.fixture(scope="session")
def office_bundle(office_data_dir, tmp_path_factory) -> Path:
    """A short BPR model trained on the real Office data by the trainer CLI (a subprocess,
    so this test process never imports torch)."""
    out = tmp_path_factory.mktemp("office") / "bundle"
    command = [
        sys.executable,
        "-m",
        "trainer.fit",
        "--dataset",
        "office",
        "--method",
        "bpr",
        "--epochs",
        "3",
        "--out",
        str(out),
        "--overwrite",
        "--no-progress",
        "--no-download",
        "--data-dir",
        str(office_data_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"trainer.fit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return out


# -- apps ------------------------------------------------------------------------------------
def make_settings(database_url: str, bundle_root: Path, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "bundle_root": bundle_root,
        "admin_token": ADMIN_TOKEN,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def client(database_url, bundle_root, bundle_v1) -> Iterator[TestClient]:
    """A started app serving ``bundle_v1`` (both databases)."""
    app = create_app(make_settings(database_url, bundle_root), bootstrap_bundle=bundle_v1)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def keyed_client(database_url, bundle_root, bundle_v1) -> Iterator[TestClient]:
    """A started app serving ``bundle_v1`` with a client API key set (both databases):
    feedback needs one (``CLIENT`` headers)."""
    settings = make_settings(database_url, bundle_root, api_key=API_KEY)
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as test_client:
        yield test_client


class LiveServer:
    """A real uvicorn server on a loopback port, in a background thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()
