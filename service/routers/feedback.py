"""POST /feedback: interactions stored for the next retrain.

Feedback becomes training data, so it is written only by clients with the API key (or by
anyone where ``PMTREC_ALLOW_ANONYMOUS_FEEDBACK`` says so), and ratings must lie on the scale
of the dataset the active model serves.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Body, Depends, status
from fastapi.exceptions import RequestValidationError

from service.dependencies import RegistryDep, SessionDep, SettingsDep, require_feedback_allowed
from service.schemas.common import ErrorResponse
from service.schemas.feedback import MAX_FEEDBACK_EVENTS, FeedbackEvent, FeedbackResponse
from shared.db import FeedbackEvent as FeedbackRow
from shared.hyperparameters import dataset_rating_scale
from shared.settings import Settings

router = APIRouter(
    prefix="/feedback",
    tags=["feedback"],
)

DISABLED = {
    403: {
        "model": ErrorResponse,
        "description": "Feedback is disabled: no API key is set and anonymous feedback is off.",
    }
}


def rating_scale(dataset: str | None, settings: Settings) -> tuple[float, float, str]:
    """The accepted rating range and where it comes from (for the message)."""
    scale = dataset_rating_scale(dataset) if dataset is not None else None
    if scale is not None:
        low, high = scale
        return low, high, f"the scale of dataset '{dataset}', which the active model serves"
    return (
        settings.feedback_min_rating,
        settings.feedback_max_rating,
        "PMTREC_FEEDBACK_MIN_RATING to PMTREC_FEEDBACK_MAX_RATING",
    )


def _check_ratings(events: list[FeedbackEvent], dataset: str | None, settings: Settings) -> None:
    low, high, source = rating_scale(dataset, settings)
    errors = [
        {
            "type": "rating_out_of_range",
            "loc": ("body", index, "rating"),
            "msg": f"rating must be between {low:g} and {high:g} ({source}); got {e.rating:g}",
            "input": e.rating,
        }
        for index, e in enumerate(events)
        if e.rating is not None and not low <= e.rating <= high
    ]
    if errors:
        raise RequestValidationError(errors)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Store user-item interactions",
    dependencies=[Depends(require_feedback_allowed)],
    responses=DISABLED,
)
def post_feedback(
    events: Annotated[list[FeedbackEvent], Body(min_length=1, max_length=MAX_FEEDBACK_EVENTS)],
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> FeedbackResponse:
    active = registry.active
    version = active.version if active is not None else None
    _check_ratings(events, active.bundle.manifest.get("dataset") if active else None, settings)
    now = datetime.now(timezone.utc)
    with session.begin():
        session.add_all(
            FeedbackRow(
                user_id=e.user_id,
                item_id=e.item_id,
                rating=e.rating,
                timestamp=e.timestamp or now,  # already UTC (FeedbackEvent)
                received_at=now,
                model_version=version,
            )
            for e in events
        )
    return FeedbackResponse(stored=len(events), model_version=version)
