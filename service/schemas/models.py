"""GET /models, GET /models/{id}, POST /models, POST /models/{id}/activate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import StrictRequest


class ModelVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset: str
    method: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, Any]
    path: str | None = Field(
        description="the bundle folder on the server; shown to admins only (admin token)"
    )
    num_users: int
    num_items: int
    dim: int
    created_at: datetime
    registered_at: datetime
    activated_at: datetime | None
    status: str = Field(description="registered, active, retired or invalid")
    is_active: bool
    error: str | None = Field(description="why the last activation was refused, if it was")


class ModelVersionList(BaseModel):
    active_version: str | None = Field(description="the version this process serves")
    versions: list[ModelVersionOut]


class RegisterModelRequest(StrictRequest):
    path: str = Field(
        min_length=1,
        max_length=4096,
        description="bundle folder on the server, inside the bundle root",
    )
