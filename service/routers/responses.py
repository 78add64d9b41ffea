"""OpenAPI descriptions of the error answers the routers share."""

from __future__ import annotations

from typing import Any

from service.schemas.common import ErrorResponse

NO_MODEL: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "No model is loaded yet."},
}
API_KEY: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key (when one is set)."},
}
ADMIN: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong admin token."},
    403: {"model": ErrorResponse, "description": "Admin endpoints are disabled (no token set)."},
}
TOO_MUCH: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "Body over PMTREC_MAX_REQUEST_BYTES."},
}
