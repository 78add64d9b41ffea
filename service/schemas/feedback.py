"""POST /feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.schemas.common import ExternalId, StrictRequest

MAX_FEEDBACK_EVENTS = 10_000


class FeedbackEvent(StrictRequest):
    user_id: ExternalId
    item_id: ExternalId
    rating: float | None = Field(default=None, allow_inf_nan=False, ge=-1e6, le=1e6)
    timestamp: datetime | None = Field(
        default=None,
        strict=False,
        description="when it happened: ISO 8601 or Unix seconds; default: time of receipt (UTC)",
    )


class FeedbackResponse(BaseModel):
    stored: int = Field(description="number of events stored")
    model_version: str | None = Field(description="the version serving when they arrived")
