"""POST /feedback: interactions stored for the next retrain."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Body, status

from service.dependencies import RegistryDep, SessionDep
from service.schemas.feedback import MAX_FEEDBACK_EVENTS, FeedbackEvent, FeedbackResponse
from shared.db import FeedbackEvent as FeedbackRow

router = APIRouter(
    prefix="/feedback",
    tags=["feedback"],
)


def _utc(moment: datetime | None, default: datetime) -> datetime:
    if moment is None:
        return default
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@router.post("", status_code=status.HTTP_201_CREATED, summary="Store user-item interactions")
def post_feedback(
    events: Annotated[list[FeedbackEvent], Body(min_length=1, max_length=MAX_FEEDBACK_EVENTS)],
    session: SessionDep,
    registry: RegistryDep,
) -> FeedbackResponse:
    active = registry.active
    version = active.version if active is not None else None
    now = datetime.now(timezone.utc)
    with session.begin():
        session.add_all(
            FeedbackRow(
                user_id=e.user_id,
                item_id=e.item_id,
                rating=e.rating,
                timestamp=_utc(e.timestamp, now),
                received_at=now,
                model_version=version,
            )
            for e in events
        )
    return FeedbackResponse(stored=len(events), model_version=version)
