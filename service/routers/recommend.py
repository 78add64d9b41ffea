"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, HTTPException

from service.dependencies import ActiveModelDep, SettingsDep
from service.limits import check_batch, check_query
from service.recommendation import ObjectiveError, Recommendation, UserQuery, recommend
from service.registry import LoadedModel
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
        objectives=request.objectives,
    )


def _answers(model: LoadedModel, queries: Sequence[UserQuery], batch: bool) -> list[Recommendation]:
    try:
        return recommend(model, queries)
    except ObjectiveError as error:  # weights that do not fit this model's ranker
        where = f"requests.{error.position}." if batch else ""
        raise HTTPException(422, f"{where}objectives: {error}") from None


# Plain defs: FastAPI runs them in its thread pool (bounded: anyio's 40 threads), so the
# FAISS search, the ONNX encoder and the ranker (CPU work that grows with k, the candidates
# and the batch) never hold the event loop: /healthz and every other route keep answering
# while a heavy request is served.
@router.post("", summary="Top-K items for one user", responses=TOO_MUCH)
def recommend_one(
    request: RecommendRequest, model: ActiveModelDep, settings: SettingsDep
) -> RecommendResponse:
    check_query(request, settings)
    (answer,) = _answers(model, [_query(request)], batch=False)
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
    answers = _answers(model, [_query(r) for r in request.requests], batch=True)
    return BatchRecommendResponse(
        model_version=model.version,
        results=[RecommendResponse.from_answer(model.version, a) for a in answers],
    )
