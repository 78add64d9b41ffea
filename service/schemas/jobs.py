"""POST /retrain, POST /evaluations, GET /jobs, GET /jobs/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.schemas.common import ModelVersionId, StrictRequest
from shared.components import DEFAULT_METHOD, default_method
from shared.hyperparameters import (
    RANKER_HYPERPARAMETERS,
    train_hyperparameters,
    validate_hyperparameters,
    validate_load_options,
    validate_ranker,
)
from shared.registry import COMBINERS, DATASETS, RANKERS


class RetrainRequest(StrictRequest):
    dataset: str = Field(description=f"one of {', '.join(DATASETS)}", examples=["office"])
    method: str | None = Field(
        default=None,
        description=f"one of {', '.join(COMBINERS)}; default: the dataset's own (office: "
        f"{default_method('office')}), else {DEFAULT_METHOD}",
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict,
        description="TrainConfig overrides of the dataset's defaults; names: "
        + ", ".join(train_hyperparameters()),
        examples=[{"epochs": 50, "lr": 0.001}],
    )
    load_options: dict[str, Any] = Field(
        default_factory=dict,
        description="dataset load options (core, interactions, item_pairs, user_pairs, "
        "skip_bad_rows; files are paths on the worker), as the trainer.fit flags",
    )
    activate: bool = Field(
        default=False, description="activate the new version when training succeeds"
    )
    activation_guard: bool = Field(
        default=True,
        description="with activate: only if its validation recall@20 is not worse than the "
        "active version's (same dataset); false activates unconditionally",
    )
    include_feedback: bool = Field(
        default=True,
        description="add the stored feedback (POST /feedback) matching the dataset to its "
        "training interactions (docs/service.md)",
    )
    ranker: str | None = Field(
        default=None,
        description=f"also train the ranking stage with this ranker ({', '.join(RANKERS)}): "
        "a two-stage bundle (docs/ranking.md, Two stages)",
        examples=["mmoe"],
    )
    ranker_hyperparameters: dict[str, Any] = Field(
        default_factory=dict,
        description="the ranking stage's settings; names: " + ", ".join(RANKER_HYPERPARAMETERS),
        examples=[{"negative_ratio": 3}],
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "office",
                    "method": "pmtrec",
                    "hyperparameters": {"seed": 1},
                    "activate": True,
                    "activation_guard": False,
                }
            ]
        }
    )

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        DATASETS.get(value)  # ValueError (422) naming the valid ones
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str | None) -> str | None:
        if value is not None:
            COMBINERS.get(value)
        return value

    @field_validator("hyperparameters")
    @classmethod
    def _valid_hyperparameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        return validate_hyperparameters(value)  # HyperparameterError is a ValueError: 422

    @model_validator(mode="after")
    def _valid_load_options(self) -> RetrainRequest:
        if self.method is None:
            self.method = default_method(self.dataset)
        self.load_options = validate_load_options(self.dataset, self.load_options)
        self.ranker_hyperparameters = validate_ranker(self.ranker, self.ranker_hyperparameters)
        return self


class EvaluationRequest(StrictRequest):
    model_version: ModelVersionId = Field(description="a registered model version")


class JobAccepted(BaseModel):
    job_id: int
    kind: str
    status: str = Field(description="queued")


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(description="train or evaluate")
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: float = Field(description="0..1: epochs done / maximum epochs while training")
    error: str | None = Field(description="why it failed, or why its last attempt was lost")
    params: dict[str, Any]
    result: dict[str, Any] = Field(
        description="train: model_version, metrics, activation, evaluation_job_id, feedback; "
        "evaluate: metrics"
    )
    model_version: str | None = Field(description="evaluated, or produced by training")
    attempts: int = Field(description="how many times a worker started it")
    worker_id: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None = Field(
        description="when an admin asked to cancel it (a running job stops at its next heartbeat)"
    )
    log_tail: str = Field(description="the end of the job's log")


class JobList(BaseModel):
    jobs: list[JobOut]
