"""Stored feedback (``POST /feedback``) for a dataset's next retrain."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.db import FeedbackEvent, ModelVersion
from trainer.data import RecDataset
from trainer.data.feedback import Feedback, merge_feedback


def load_feedback(
    session: Session, dataset: str, up_to_id: int | None = None
) -> tuple[Feedback, dict[str, Any]]:
    """The feedback events that may join ``dataset``'s training, oldest first, and the cut-off
    (``last_id``: the highest event id, ``last_timestamp``: the newest event time), recorded
    with the model so that a run says which feedback it saw.

    ``up_to_id``: only events with ids up to this one (the cut-off a training run recorded),
    so an evaluation or a resumed training rebuilds exactly the inputs of that run.

    Events received while a model of another dataset served are left out; events received
    without a model serving are candidates for every dataset. ``merge_feedback`` then keeps
    those whose item ids are in the dataset's catalogue.
    """
    query = (
        select(
            FeedbackEvent.id,
            FeedbackEvent.user_id,
            FeedbackEvent.item_id,
            FeedbackEvent.rating,
            FeedbackEvent.timestamp,
        )
        .outerjoin(ModelVersion, ModelVersion.id == FeedbackEvent.model_version)
        .where(or_(FeedbackEvent.model_version.is_(None), ModelVersion.dataset == dataset))
        .order_by(FeedbackEvent.timestamp, FeedbackEvent.id)
    )
    if up_to_id is not None:
        query = query.where(FeedbackEvent.id <= up_to_id)
    rows = session.execute(query).all()
    feedback = Feedback(
        user_ids=[row.user_id for row in rows],
        item_ids=[row.item_id for row in rows],
        ratings=np.array(
            [np.nan if row.rating is None else row.rating for row in rows], dtype=np.float32
        ),
    )
    newest = max((row.timestamp for row in rows), default=None)
    cutoff = {
        "last_id": max((row.id for row in rows), default=None),
        "last_timestamp": newest.isoformat() if newest is not None else None,
    }
    return feedback, cutoff


def with_feedback(
    session: Session,
    dataset: RecDataset,
    up_to_id: int | None = None,
    *,
    max_events: int | None = None,
    max_per_user: int | None = None,
) -> tuple[RecDataset, dict[str, Any]]:
    """``dataset`` with its stored feedback merged (up to ``up_to_id`` when given, within the
    caps), and the record of what joined: the manifest's ``training_inputs.feedback``, caps
    included, so that an evaluation merges exactly the same events."""
    feedback, cutoff = load_feedback(session, dataset.name, up_to_id)
    caps = {"max_events": max_events, "max_per_user": max_per_user}
    if len(feedback) == 0:
        return dataset, {"included": True, "events": 0, **cutoff, "caps": caps}
    merged = merge_feedback(dataset, feedback, max_events=max_events, max_per_user=max_per_user)
    counts = {
        key.removeprefix("feedback:"): value
        for key, value in merged.source_stats.items()
        if key.startswith("feedback:")
    }
    return merged, {"included": True, **counts, **cutoff, "caps": caps}
