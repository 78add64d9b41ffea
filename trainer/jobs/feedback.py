"""Stored feedback (``POST /feedback``) for a dataset's next retrain."""

from __future__ import annotations

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.db import FeedbackEvent, ModelVersion
from trainer.data.feedback import Feedback


def load_feedback(session: Session, dataset: str) -> tuple[Feedback, int | None]:
    """The feedback events that may join ``dataset``'s training, oldest first, and the id of
    the newest one (recorded with the model, so a run says which feedback it saw).

    Events received while a model of another dataset served are left out; events received
    without a model serving are candidates for every dataset. ``merge_feedback`` then keeps
    those whose item ids are in the dataset's catalogue.
    """
    rows = session.execute(
        select(FeedbackEvent.id, FeedbackEvent.user_id, FeedbackEvent.item_id, FeedbackEvent.rating)
        .outerjoin(ModelVersion, ModelVersion.id == FeedbackEvent.model_version)
        .where(or_(FeedbackEvent.model_version.is_(None), ModelVersion.dataset == dataset))
        .order_by(FeedbackEvent.timestamp, FeedbackEvent.id)
    ).all()
    feedback = Feedback(
        user_ids=[row.user_id for row in rows],
        item_ids=[row.item_id for row in rows],
        ratings=np.array(
            [np.nan if row.rating is None else row.rating for row in rows], dtype=np.float32
        ),
    )
    return feedback, max((row.id for row in rows), default=None)
