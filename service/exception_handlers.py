"""Client mistakes become 4xx with a readable message; a missing model becomes 503."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from service.registry import NoActiveModelError


def _describe(error: dict) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        return f"the body is not valid JSON: {reason} (character {error['loc'][-1]})"
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    return f"{location}: {error.get('msg', 'invalid value')}"


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    # FastAPI's usual list (machine readable) plus one sentence a person can act on.
    message = "invalid request: " + "; ".join(_describe(e) for e in errors[:5])
    if len(errors) > 5:
        message += f"; and {len(errors) - 5} more"
    return JSONResponse(
        status_code=422,
        content={"detail": jsonable_encoder(errors), "message": message},
    )


async def _no_active_model(_request: Request, exc: NoActiveModelError) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": str(exc)},
        headers={"Retry-After": "5"},
    )


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NoActiveModelError, _no_active_model)
