"""GET /models/{id}/evaluations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class EvaluationOut(BaseModel):
    job_id: int | None = Field(description="the evaluation job that computed these metrics")
    model_version: str
    dataset: str
    created_at: datetime
    metrics: dict[str, dict[str, float]] = Field(
        description='per split ("test", "val"): {"recall@20": ..., "ndcg@20": ..., ...}'
    )


class EvaluationList(BaseModel):
    model_version: str
    evaluations: list[EvaluationOut] = Field(description="oldest first")
