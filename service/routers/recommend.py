"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import ActiveModelDep, SettingsDep
from service.limits import check_batch, check_query
from service.recommendation import UserQuery, recommend
from service.routers.responses import NO_MODEL, TOO_MUCH
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


# Plain defs: FastAPI runs them in its thread pool, so the FAISS search and the ONNX encoder
# (CPU work that grows with k and the batch) never hold the event loop: /healthz and every
# other route keep answering while a heavy request is served.
@router.post("", summary="Top-K items for one user", responses=TOO_MUCH)
def recommend_one(
    request: RecommendRequest, model: ActiveModelDep, settings: SettingsDep
) -> RecommendResponse:
    check_query(request, settings)
    (answer,) = recommend(model, [_query(request)])
    return RecommendResponse.from_answer(model.version, answer)


@router.post(
    "/batch",
    summary="Top-K items for many users, from one model version",
    responses=TOO_MUCH,
)
def recommend_batch(
    request: BatchRecommendRequest, model: ActiveModelDep, settings: SettingsDep
) -> BatchRecommendResponse:
    check_batch(request.requests, settings)
    answers = recommend(model, [_query(r) for r in request.requests])
    return BatchRecommendResponse(
        model_version=model.version,
        results=[RecommendResponse.from_answer(model.version, a) for a in answers],
    )
