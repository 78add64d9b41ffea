"""POST /feedback, and the admin listing GET /feedback."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.schemas.common import ExternalId, StrictRequest

MAX_FEEDBACK_EVENTS = 10_000


class FeedbackEvent(StrictRequest):
    user_id: ExternalId
    item_id: ExternalId
    rating: float | None = Field(
        default=None,
        allow_inf_nan=False,
        ge=-1e6,
        le=1e6,
        description="on the active model's dataset scale (1 to 5 stars for the product's "
        "datasets); none: a positive interaction",
    )
    timestamp: datetime | None = Field(
        default=None,
        strict=False,
        description="when it happened: ISO 8601 or Unix seconds; default: time of receipt (UTC)",
    )

    @field_validator("timestamp")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Stored in UTC: an offset that moves the moment past year 1 or 9999 cannot be stored
        # (astimezone overflows), so it is the client's mistake to hear about, not a 500.
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError(
                "the timestamp is outside the years 1 to 9999 once converted to UTC"
            ) from None


class FeedbackResponse(BaseModel):
    stored: int = Field(description="number of events stored")
    model_version: str | None = Field(description="the version serving when they arrived")


class StoredFeedback(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: str
    item_id: str
    rating: float | None
    timestamp: datetime
    received_at: datetime
    model_version: str | None


class FeedbackList(BaseModel):
    total: int = Field(description="events matching the filter (all pages)")
    events: list[StoredFeedback] = Field(description="newest first")


class FeedbackDeleted(BaseModel):
    deleted: int = Field(description="number of events deleted")
