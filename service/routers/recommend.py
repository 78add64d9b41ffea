"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import ActiveModelDep
from service.recommendation import Recommendation, UserQuery, recommend
from service.routers.responses import NO_MODEL
from service.schemas.common import ScoredItem
from service.schemas.recommend import (
    BatchRecommendRequest,
    BatchRecommendResponse,
    RecommendRequest,
    RecommendResponse,
)

router = APIRouter(
    prefix="/recommend",
    tags=["recommend"],
    responses=NO_MODEL,
)


def _query(request: RecommendRequest) -> UserQuery:
    return UserQuery(
        user_id=request.user_id,
        k=request.k,
        exclude_seen=request.exclude_seen,
        exclude=request.exclude,
        history=request.history,
    )


def _response(version: str, answer: Recommendation) -> RecommendResponse:
    return RecommendResponse(
        model_version=version,
        user_id=answer.user_id,
        source=answer.source,
        items=[ScoredItem(item_id=i, score=s) for i, s in zip(answer.item_ids, answer.scores)],
        unknown_history_items=answer.unknown_history_items,
    )


# async: the work is a sub-millisecond FAISS/ONNX call, cheaper inline than via a thread.
@router.post("", summary="Top-K items for one user")
async def recommend_one(request: RecommendRequest, model: ActiveModelDep) -> RecommendResponse:
    (answer,) = recommend(model, [_query(request)])
    return _response(model.version, answer)


@router.post("/batch", summary="Top-K items for many users, from one model version")
async def recommend_batch(
    request: BatchRecommendRequest, model: ActiveModelDep
) -> BatchRecommendResponse:
    answers = recommend(model, [_query(r) for r in request.requests])
    return BatchRecommendResponse(
        model_version=model.version, results=[_response(model.version, a) for a in answers]
    )
