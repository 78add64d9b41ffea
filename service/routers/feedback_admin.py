"""GET /feedback and DELETE /feedback (admin): review and remove stored feedback before it
joins a retrain (a flood of made-up events, a user asking to be forgotten)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy import delete, func, select

from service.dependencies import SessionDep, require_admin
from service.routers.responses import ADMIN
from service.schemas.common import EXTERNAL_ID_PATTERN, ErrorResponse
from service.schemas.feedback import FeedbackDeleted, FeedbackList, StoredFeedback
from shared.db import FeedbackEvent as FeedbackRow

router = APIRouter(
    prefix="/feedback", tags=["feedback"], dependencies=[Depends(require_admin)], responses=ADMIN
)

# Feedback ids are BIGINT on PostgreSQL: anything larger is no event, not a database error.
MAX_FEEDBACK_ID = 2**63 - 1
UserFilter = Annotated[str, Query(min_length=1, max_length=256, pattern=EXTERNAL_ID_PATTERN)]


@router.get("", summary="Stored feedback, newest first (optionally one user's)")
def list_feedback(
    session: SessionDep,
    user_id: UserFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_FEEDBACK_ID)] = 0,
) -> FeedbackList:
    where = [] if user_id is None else [FeedbackRow.user_id == user_id]
    total = session.scalar(select(func.count()).select_from(FeedbackRow).where(*where)) or 0
    rows = session.scalars(
        select(FeedbackRow)
        .where(*where)
        .order_by(FeedbackRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return FeedbackList(total=total, events=[StoredFeedback.model_validate(r) for r in rows])


@router.delete("", summary="Delete every stored event of one user")
def delete_user_feedback(user_id: UserFilter, session: SessionDep) -> FeedbackDeleted:
    with session.begin():
        deleted = session.execute(delete(FeedbackRow).where(FeedbackRow.user_id == user_id))
    return FeedbackDeleted(deleted=deleted.rowcount)


@router.delete(
    "/{event_id}",
    summary="Delete one stored event",
    responses={404: {"model": ErrorResponse, "description": "Unknown feedback event."}},
)
def delete_feedback_event(
    event_id: Annotated[int, Path(ge=1, le=MAX_FEEDBACK_ID)], session: SessionDep
) -> FeedbackDeleted:
    with session.begin():
        deleted = session.execute(delete(FeedbackRow).where(FeedbackRow.id == event_id))
    if deleted.rowcount == 0:
        raise HTTPException(404, f"feedback event {event_id} does not exist")
    return FeedbackDeleted(deleted=deleted.rowcount)
