"""The one settings object of the product, read from ``PMTREC_*`` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The shortest admin token or API key accepted (after stripping surrounding spaces).
MIN_SECRET_CHARS = 16


class Settings(BaseSettings):
    """Every option of the product. Each field is read from ``PMTREC_<FIELD>`` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PMTREC_", extra="ignore")

    # Where the real datasets live (one folder per dataset, see docs/data.md).
    data_dir: Path = Field(default=Path("data"))
    # Download missing dataset files from their public source when a network exists.
    allow_download: bool = True
    # Folders whose files a retrain may name in load_options (interactions, item_pairs,
    # user_pairs), separated by os.pathsep (":" on Linux); empty: the data folder only. Paths
    # outside them are refused by the API (422) and by the worker (shared/input_paths.py).
    job_input_roots: str = ""
    # Where trained model bundles are written by default (one folder per model version).
    bundle_root: Path = Field(default=Path("bundles"))
    # Where ALS fits are kept for reuse (trainer/baselines/cache.py): a later ALS run or
    # --init als warm start with the same data, settings and seed loads the stored factors
    # instead of refitting (about 5 minutes on Epinions' full catalogue). Unset: no cache.
    fit_cache_dir: Path | None = None
    # SQLAlchemy URL of the database holding model versions, jobs, evaluations and feedback.
    database_url: str = "sqlite:///pmtrec.db"
    # Bearer token for admin endpoints; unset means admin endpoints answer 403. At least
    # MIN_SECRET_CHARS characters (surrounding spaces do not count); empty means unset.
    admin_token: SecretStr | None = None
    # Optional API key for the client endpoints (recommend, items, feedback), and for reading
    # /models, evaluations and /metrics (docs/service.md, "Authentication"); off when unset.
    # The same minimum length as admin_token.
    api_key: SecretStr | None = None
    # Without an API key, POST /feedback answers 403 (anyone could write training data);
    # true accepts feedback from anyone (a demo, a private network).
    allow_anonymous_feedback: bool = False
    # With an API key set, /metrics needs it (or the admin token) unless this is true.
    public_metrics: bool = False
    # Feedback ratings outside the active model's dataset scale (office, epinions, ...: 1-5)
    # are refused with 422; for a dataset with no known scale, these bounds apply.
    feedback_min_rating: float = Field(default=1.0, allow_inf_nan=False)
    feedback_max_rating: float = Field(default=5.0, allow_inf_nan=False)
    # At most this many feedback events join one retrain, and at most this many per user
    # (the newest are kept): a flood of made-up events cannot swamp the training data.
    feedback_max_events_per_retrain: int = Field(default=100_000, ge=0)
    feedback_max_events_per_user: int = Field(default=1_000, ge=0)
    # /readyz checks the database with a query that must answer within this many seconds.
    readiness_database_timeout_seconds: float = Field(default=2.0, gt=0)
    # Retry-After (seconds) of the 503 answered while the database is unreachable.
    database_retry_after_seconds: int = Field(default=5, ge=1)
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
    # Bounds on the work one request can ask for (so that one client cannot stall the rest):
    # request bodies above max_request_bytes are refused with 413 before they are read whole;
    # /recommend takes k <= max_k and a history or exclude list of <= max_history ids;
    # /recommend/batch takes <= max_batch_size requests asking for <= max_batch_items items
    # in all (the sum of their k).
    max_request_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_k: int = Field(default=1000, gt=0, le=1000)
    max_history: int = Field(default=1000, gt=0, le=1000)
    max_batch_size: int = Field(default=100, gt=0, le=500)
    max_batch_items: int = Field(default=10_000, gt=0)
    # A bundle with a ranker re-ranks, per query, the top max(ranker_candidates, k) items of
    # the retrieval stage (seen and excluded items left out first).
    ranker_candidates: int = Field(default=200, gt=0, le=1000)
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
    # A train job runs on this many data-parallel processes on the worker's host (torch
    # distributed, gloo; docs/scaling.md); the worker supervises them. 1: in the worker itself.
    worker_train_processes: int = Field(default=1, ge=1, le=64)
    # A worker that starts while the database holds no model version and no train job queues
    # one train job of this dataset (tuned defaults, activated): a new deployment's first
    # model. Unset: nothing is queued (docs/deployment.md).
    first_run_dataset: str | None = None

    def input_roots(self) -> list[Path]:
        """The folders job input files must lie in (``job_input_roots``, else the data dir)."""
        named = [Path(part) for part in self.job_input_roots.split(os.pathsep) if part.strip()]
        return named or [self.data_dir]

    @field_validator("admin_token", "api_key", mode="after")
    @classmethod
    def _long_enough(cls, value: SecretStr | None, info) -> SecretStr | None:
        # A short secret is a configuration mistake (three spaces once counted as a token):
        # refuse to start rather than run with guessable or silently disabled auth.
        if value is None or not value.get_secret_value():
            return None  # PMTREC_ADMIN_TOKEN= (empty) means unset; "   " is too short
        secret = value.get_secret_value().strip()
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(
                f"PMTREC_{info.field_name.upper()} must be at least {MIN_SECRET_CHARS} "
                f"characters long (surrounding spaces do not count); got {len(secret)}"
            )
        return SecretStr(secret)

    @model_validator(mode="after")
    def _rating_bounds_in_order(self) -> Settings:
        if self.feedback_min_rating > self.feedback_max_rating:
            raise ValueError(
                "feedback_min_rating must not exceed feedback_max_rating "
                f"(got {self.feedback_min_rating} and {self.feedback_max_rating})"
            )
        return self

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


def describe_settings_error(error: ValidationError) -> str:
    """Every invalid setting in one line, named by its environment variable (for the start-up
    message of the service and the worker, instead of a traceback)."""
    problems = []
    for problem in error.errors():
        where = problem.get("loc") or ()
        name = f"PMTREC_{str(where[0]).upper()}" if where else "settings"
        message = str(problem.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append(message if message.startswith(name) else f"{name}: {message}")
    return "; ".join(problems)
