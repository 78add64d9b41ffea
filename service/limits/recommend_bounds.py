"""The settings' bounds on /recommend and /recommend/batch (``max_k``, ``max_history``,
``max_batch_size``, ``max_batch_items``).

The request schemas carry the product's hard ceilings (published in the OpenAPI schema);
these checks apply an operator's lower limits, with a 422 that names the setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import HTTPException

from service.schemas.recommend import RecommendRequest
from shared.settings import Settings


def check_query(request: RecommendRequest, settings: Settings, where: str = "") -> None:
    """422 when one query asks for more than the settings allow."""
    if request.k > settings.max_k:
        raise HTTPException(
            422, f"{where}k: at most {settings.max_k} items per request (PMTREC_MAX_K)"
        )
    for name, ids in (("history", request.history), ("exclude", request.exclude)):
        if ids is not None and len(ids) > settings.max_history:
            raise HTTPException(
                422,
                f"{where}{name}: at most {settings.max_history} ids (PMTREC_MAX_HISTORY)",
            )


def check_batch(requests: Sequence[RecommendRequest], settings: Settings) -> None:
    """422 when a batch is too long or asks for too many items in all."""
    if len(requests) > settings.max_batch_size:
        raise HTTPException(
            422,
            f"requests: at most {settings.max_batch_size} per batch (PMTREC_MAX_BATCH_SIZE); "
            "split the batch",
        )
    for position, request in enumerate(requests):
        check_query(request, settings, where=f"requests.{position}.")
    total = sum(request.k for request in requests)
    if total > settings.max_batch_items:
        raise HTTPException(
            422,
            f"requests: the batch asks for {total} items in all, at most "
            f"{settings.max_batch_items} are served per batch (PMTREC_MAX_BATCH_ITEMS)",
        )
