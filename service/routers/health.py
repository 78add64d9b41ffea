"""GET /healthz (alive) and GET /readyz (a model is loaded and the database answers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from service.database import unavailable_answer
from service.dependencies import ActiveModelDep, get_state
from service.schemas.common import ErrorResponse
from service.schemas.health import HealthResponse, ReadinessResponse
from service.state import ServiceState

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    summary="A model is loaded, the database answers, and requests can be answered",
    response_model=ReadinessResponse,
    responses={
        503: {
            "model": ErrorResponse,
            "description": "No model is loaded yet, or the database is unreachable.",
        }
    },
)
async def readyz(
    model: ActiveModelDep, state: Annotated[ServiceState, Depends(get_state)]
) -> ReadinessResponse | JSONResponse:
    # Recommendations need no database, but feedback, models and jobs do: a replica that
    # cannot store feedback is taken out of rotation until the database is back.
    if not await state.database_probe.reachable():
        return unavailable_answer(
            state.settings.database_retry_after_seconds,
            "not ready: the database is unreachable",
        )
    return ReadinessResponse(
        model_version=model.version, index_kind=model.index.kind, num_items=model.bundle.num_items
    )
