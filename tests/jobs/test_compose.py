"""Acceptance 5: docker-compose.yml and the Dockerfiles (no Docker engine needed; validated by
``docker-compose config`` too where that binary exists)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from shared.settings import Settings
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
CUDA = REPO / "docker" / "docker-compose.cuda.yml"
API_DOCKERFILE = REPO / "docker" / "api.Dockerfile"
WORKER_DOCKERFILE = REPO / "docker" / "worker.Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _mounts(service: dict) -> dict[str, str]:
    """Volume name -> path in the container (read-only flags dropped)."""
    return {v.split(":")[0]: v.split(":")[1] for v in service.get("volumes", [])}


def _instructions(dockerfile: str, name: str) -> list[str]:
    """The arguments of every ``name`` instruction (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", dockerfile)
    return [
        line.split(None, 1)[1]
        for line in text.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]


def test_services_volumes_and_health(compose):
    services = compose["services"]
    assert set(services) == {"db", "api", "worker"}
    assert set(compose["volumes"]) == {"pgdata", "bundles", "datasets"}

    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert _mounts(db) == {"pgdata": "/var/lib/postgresql/data"}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "ports" not in db  # the database is reachable from the compose network only

    api, worker = services["api"], services["worker"]
    assert api["build"]["dockerfile"] == "docker/api.Dockerfile"
    assert worker["build"]["dockerfile"] == "docker/worker.Dockerfile"
    for service in (api, worker):
        assert service["depends_on"] == {"db": {"condition": "service_healthy"}}
        assert service["restart"] == "unless-stopped"
    # Issue 18 item 11: the API is healthy only with a model (readiness, not liveness); the
    # worker has a healthcheck of its own; a new deployment trains its first model.
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "trainer.healthcheck"]
    assert worker["environment"]["PMTREC_FIRST_RUN_DATASET"] == "${PMTREC_FIRST_RUN_DATASET-office}"
    assert api["ports"] == ["${PMTREC_API_PORT:-8000}:8000"]
    # One bundle volume: the worker writes bundles, the API reads them at the same path.
    bundle_root = api["environment"]["PMTREC_BUNDLE_ROOT"]
    assert bundle_root == worker["environment"]["PMTREC_BUNDLE_ROOT"] == "/bundles"
    assert _mounts(api)["bundles"] == _mounts(worker)["bundles"] == bundle_root
    assert "bundles:/bundles:ro" in api["volumes"]
    assert _mounts(worker)["datasets"] == worker["environment"]["PMTREC_DATA_DIR"]


def test_environment_of_each_service(compose):
    api = compose["services"]["api"]["environment"]
    worker = compose["services"]["worker"]["environment"]
    for env in (api, worker):
        assert re.fullmatch(
            r"postgresql\+psycopg://pmtrec:\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/pmtrec",
            env["PMTREC_DATABASE_URL"],
        )
        # Worker and API agree on the job timing the reapers in both use.
        for name in ("JOB_HEARTBEAT_SECONDS", "JOB_HEARTBEAT_TIMEOUT_SECONDS", "JOB_MAX_ATTEMPTS"):
            assert env[f"PMTREC_{name}"] == api[f"PMTREC_{name}"]
    # Secrets come from the environment: no literal token in the file.
    assert api["PMTREC_ADMIN_TOKEN"] == "${PMTREC_ADMIN_TOKEN:-}"
    assert api["PMTREC_API_KEY"] == "${PMTREC_API_KEY:-}"
    assert float(api["PMTREC_ACTIVE_POLL_SECONDS"]) > 0
    # Every PMTREC_* variable is a real setting (a typo would be silently ignored).
    fields = set(Settings.model_fields)
    for service in compose["services"].values():
        for name in service.get("environment", {}):
            if name.startswith("PMTREC_"):
                assert name.removeprefix("PMTREC_").lower() in fields, name


def test_api_image_installs_no_torch():
    dockerfile = API_DOCKERFILE.read_text()
    runs = " ".join(_instructions(dockerfile, "RUN"))
    copies = " ".join(_instructions(dockerfile, "COPY"))
    assert "torch" not in runs and "trainer" not in runs
    assert re.search(r'pip install "\.\[service,postgres\]"', runs)
    assert "trainer" not in copies
    # ... and those extras pull no torch either.
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in ("service", "postgres") for r in project["optional-dependencies"][extra]
    ]
    assert not [r for r in requirements if r.lower().startswith("torch")]
    assert _instructions(dockerfile, "CMD") == [
        '["python", "-m", "service", "--host", "0.0.0.0", "--port", "8000"]'
    ]


def test_worker_image_installs_cpu_torch_by_default_and_a_cuda_variant():
    dockerfile = WORKER_DOCKERFILE.read_text()
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in dockerfile
    runs = " ".join(_instructions(dockerfile, "RUN"))
    assert '--index-url "${TORCH_INDEX_URL}"' in runs
    assert re.search(r'pip install "\.\[trainer,postgres\]"', runs)
    assert _instructions(dockerfile, "CMD") == ['["python", "-m", "trainer.worker"]']
    cuda = yaml.safe_load(CUDA.read_text())["services"]["worker"]
    assert "/whl/cu" in cuda["build"]["args"]["TORCH_INDEX_URL"]
    (device,) = cuda["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"]


def test_deployment_is_documented():
    text = (REPO / "docs" / "deployment.md").read_text()
    for needle in (
        "docker compose up",
        "docker/docker-compose.cuda.yml",
        "python -m trainer.worker",
        "POST /retrain",
        "curl",
        "PMTREC_ADMIN_TOKEN",
        "docker/api.Dockerfile",
        "docker/worker.Dockerfile",
    ):
        assert needle in text, needle


@pytest.mark.parametrize("files", [[COMPOSE], [COMPOSE, CUDA]], ids=["cpu", "cuda"])
def test_docker_compose_accepts_the_files(files, tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed")
    command = [binary, "--project-directory", str(REPO)]
    for path in files:
        command += ["-f", str(path)]
    env = {"POSTGRES_PASSWORD": "secret", "PMTREC_ADMIN_TOKEN": "token", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [*command, "config"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert resolved["services"]["api"]["environment"]["PMTREC_DATABASE_URL"] == (
        "postgresql+psycopg://pmtrec:secret@db:5432/pmtrec"
    )
    # Without the database password, compose refuses to start rather than use a default.
    del env["POSTGRES_PASSWORD"]
    done = subprocess.run(
        [*command, "config", "-q"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0 and "POSTGRES_PASSWORD" in done.stderr
