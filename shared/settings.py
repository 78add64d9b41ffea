"""The one settings object of the product, read from ``PMTREC_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every option of the product. Each field is read from ``PMTREC_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PMTREC_", extra="ignore")

    # Where the real datasets live (one folder per dataset, see docs/data.md).
    data_dir: Path = Field(default=Path("data"))
    # Download missing dataset files from their public source when a network exists.
    allow_download: bool = True
    # Where trained model bundles are written by default (one folder per model version).
    bundle_root: Path = Field(default=Path("bundles"))
    # SQLAlchemy URL of the database holding model versions, jobs, evaluations and feedback.
    database_url: str = "sqlite:///pmtrec.db"
    # Bearer token for admin endpoints; unset means admin endpoints answer 403.
    admin_token: SecretStr | None = None
    # Optional API key for recommendation endpoints (off when unset).
    api_key: SecretStr | None = None
    # FAISS index: "auto" picks exact below exact_index_max_items, approximate above.
    index_kind: Literal["auto", "exact", "hnsw"] = "auto"
    exact_index_max_items: int = Field(default=100_000, gt=0)
    hnsw_m: int = Field(default=32, gt=1)
    hnsw_ef_search: int = Field(default=128, gt=0)
    # Threads per process for FAISS/OpenMP and onnxruntime.
    faiss_threads: int = Field(default=1, gt=0)
    onnx_threads: int = Field(default=1, gt=0)
    # HNSW graph build effort (FAISS efConstruction): higher = better recall, slower builds.
    hnsw_ef_construction: int = Field(default=40, gt=0)
    # Create or upgrade the database schema (alembic migrations) when the API or a worker
    # starts; off when operators run `python -m shared.db.migrate` themselves.
    auto_migrate: bool = True
    # API processes re-read the active model version from the database every this many
    # seconds and hot-swap when it changed (a worker activated a retrained model, or another
    # replica did); 0 turns polling off.
    active_poll_seconds: float = Field(default=5.0, ge=0)
    # Jobs: a running job's worker writes a heartbeat every job_heartbeat_seconds; a job
    # without one for job_heartbeat_timeout_seconds is re-queued, or failed once it has been
    # started job_max_attempts times.
    job_heartbeat_seconds: float = Field(default=5.0, gt=0)
    job_heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=2, ge=1)
    # How often an idle worker looks for a queued job.
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    # A worker that starts while the database holds no model version and no train job queues
    # one train job of this dataset (tuned defaults, activated): a new deployment's first
    # model. Unset: nothing is queued (docs/deployment.md).
    first_run_dataset: str | None = None

    @model_validator(mode="after")
    def _heartbeat_within_timeout(self) -> Settings:
        if self.job_heartbeat_seconds >= self.job_heartbeat_timeout_seconds:
            raise ValueError(
                "job_heartbeat_seconds must be shorter than job_heartbeat_timeout_seconds "
                f"(got {self.job_heartbeat_seconds} and {self.job_heartbeat_timeout_seconds})"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
