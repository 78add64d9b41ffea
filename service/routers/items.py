"""GET /items/{item_id}/similar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from service.dependencies import ActiveModelDep, SettingsDep
from service.recommendation import UnknownItemError, similar_items
from service.routers.responses import NO_MODEL
from service.schemas.common import EXTERNAL_ID_PATTERN, ErrorResponse
from service.schemas.items import SimilarItemsResponse
from service.schemas.recommend import MAX_K

router = APIRouter(
    prefix="/items",
    tags=["items"],
    responses=NO_MODEL,
)


@router.get(
    "/{item_id}/similar",
    summary="Items most similar to an item (inner product of the model's item vectors)",
    responses={404: {"model": ErrorResponse, "description": "Unknown item."}},
)
def get_similar_items(  # a plain def: the search runs in the thread pool, off the loop
    item_id: Annotated[str, Path(min_length=1, max_length=256, pattern=EXTERNAL_ID_PATTERN)],
    model: ActiveModelDep,
    settings: SettingsDep,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
) -> SimilarItemsResponse:
    if k > settings.max_k:
        raise HTTPException(422, f"k: at most {settings.max_k} items (PMTREC_MAX_K)")
    try:
        item_ids, scores = similar_items(model, item_id, k)
    except UnknownItemError as error:
        raise HTTPException(404, str(error)) from error
    return SimilarItemsResponse.from_answer(model.version, item_id, item_ids, scores)
