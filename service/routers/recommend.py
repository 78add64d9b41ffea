"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Request, Response

from service.dependencies import ActiveModelDep, SettingsDep
from service.limits import check_batch, check_query
from service.recommendation import ObjectiveError, Recommendation, UserQuery, recommend
from service.registry import LoadedModel
from service.routers.body import json_body, json_body_openapi
from service.routers.responses import NO_MODEL, TOO_MUCH
from service.schemas.recommend import (
    BatchRecommendRequest,
    BatchRecommendResponse,
    RecommendRequest,
    RecommendResponse,
    recommendation_json,
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


def _batch_answers(model: LoadedModel, queries: Sequence[UserQuery]) -> list[Recommendation]:
    try:
        return recommend(model, queries)
    except ObjectiveError as error:  # weights that do not fit this model's ranker
        raise HTTPException(422, f"requests.{error.position}.objectives: {error}") from None


# The CPU work of a recommendation (the FAISS search, the ONNX encoder and ranker, which
# grow with k, the candidates and the batch) never runs on the event loop, so /healthz and
# every other route keep answering while a heavy request is served: a single query goes to
# the batcher's thread (which answers concurrent ones together), and the batch route is a
# plain def, which FastAPI runs in its thread pool (bounded: anyio's 40 threads).
@router.post(
    "",
    summary="Top-K items for one user",
    response_model=RecommendResponse,
    responses=TOO_MUCH,
    openapi_extra=json_body_openapi(RecommendRequest),
)
async def recommend_one(http: Request) -> Response:
    # The body, the state and the active model read here, not as parameters FastAPI solves:
    # that machinery costs tens of microseconds per request on the route that serves the
    # most requests (service/routers/body.py keeps FastAPI's rules and errors).
    request = await json_body(http, RecommendRequest)
    state = http.app.state.service
    model = state.registry.require_active()  # read once (NoActiveModelError: 503)
    check_query(request, state.settings)
    try:
        answer = await state.batcher.answer(model, _query(request))
    except ObjectiveError as error:  # weights that do not fit this model's ranker
        raise HTTPException(422, f"objectives: {error}") from None
    return Response(recommendation_json(model.version, answer), media_type="application/json")


@router.post(
    "/batch",
    summary="Top-K items for many users, from one model version",
    responses=TOO_MUCH,
)
def recommend_batch(
    request: BatchRecommendRequest, model: ActiveModelDep, settings: SettingsDep
) -> BatchRecommendResponse:
    check_batch(request.requests, settings)
    answers = _batch_answers(model, [_query(r) for r in request.requests])
    return BatchRecommendResponse(
        model_version=model.version,
        results=[RecommendResponse.from_answer(model.version, a) for a in answers],
    )
