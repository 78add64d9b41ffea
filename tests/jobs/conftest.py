"""Fixtures of the job tests: databases (from the service tests), a small CSV dataset, and
settings for in-process workers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from shared.db import create_db_engine, create_session_factory, init_db
from shared.settings import Settings

# The database fixtures (SQLite always, PostgreSQL with PMTREC_TEST_DATABASE_URL).
from tests.service.conftest import database_url, sqlite_url  # noqa: F401

ADMIN_TOKEN = "jobs-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSV_USERS = [f"u{n}" for n in range(40)]
CSV_ITEMS = [f"i{n}" for n in range(30)]


def write_taste_csv(path: Path) -> Path:
    """Two taste groups (even users like items 0..14, odd users 15..29), 10 ratings each,
    one low rating per user: small enough to train in a fraction of a second."""
    rng = np.random.default_rng(0)
    lines = ["user,item,rating"]
    for u, user in enumerate(CSV_USERS):
        liked = range(0, 15) if u % 2 == 0 else range(15, 30)
        for i in rng.choice(list(liked), 10, replace=False):
            lines.append(f"{user},{CSV_ITEMS[i]},{rng.integers(4, 6)}")
        disliked = CSV_ITEMS[29 if u % 2 == 0 else 0]
        lines.append(f"{user},{disliked},1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def taste_csv(tmp_path_factory) -> Path:
    return write_taste_csv(tmp_path_factory.mktemp("csv") / "ratings.csv")


def job_settings(url: str, root: Path, **overrides) -> Settings:
    """Settings for API and workers in tests: fast heartbeats and polling.

    The heartbeat timeout is long: a live worker on a loaded machine can miss a few seconds of
    heartbeats, and a short timeout then re-queues a job that is still running (it ran twice).
    Tests that need a job reaped move the reaper's clock (``reap_stale_jobs(now=...)``) or set
    their own timeout (the SIGKILL test of test_end_to_end.py)."""
    values = {
        "database_url": url,
        "bundle_root": root / "bundles",
        "data_dir": Path(os.environ.get("PMTREC_DATA_DIR") or root / "data"),
        # The session's temporary folders (the CSV fixtures live beside ``root``), and the data.
        "job_input_roots": os.pathsep.join(
            [str(root.parent), os.environ.get("PMTREC_DATA_DIR") or str(root / "data")]
        ),
        "allow_download": False,
        "admin_token": ADMIN_TOKEN,
        "job_heartbeat_seconds": 0.2,
        "job_heartbeat_timeout_seconds": 600.0,
        "worker_poll_seconds": 0.2,
        "active_poll_seconds": 0.2,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:  # noqa: F811 (the imported fixture)
    return job_settings(database_url, tmp_path)


@pytest.fixture
def sessions(settings) -> Iterator[sa.orm.sessionmaker]:
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    try:
        yield create_session_factory(engine)
    finally:
        engine.dispose()


def train_params(**overrides) -> dict:
    """A train job's params, as POST /retrain stores them."""
    return {
        "dataset": "office",
        "method": "pmtrec",
        "hyperparameters": {},
        "load_options": {},
        "activate": False,
        "activation_guard": True,
        "include_feedback": True,
        **overrides,
    }
