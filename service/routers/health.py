"""GET /healthz (alive) and GET /readyz (a model is loaded)."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import ActiveModelDep
from service.routers.responses import NO_MODEL
from service.schemas.health import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get("/readyz", summary="A model is loaded and requests can be answered", responses=NO_MODEL)
async def readyz(model: ActiveModelDep) -> ReadinessResponse:
    return ReadinessResponse(
        model_version=model.version, index_kind=model.index.kind, num_items=model.bundle.num_items
    )
