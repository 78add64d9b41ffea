"""GET /metrics in the Prometheus text format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.dependencies import get_state
from service.state import ServiceState

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(state: Annotated[ServiceState, Depends(get_state)]) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
