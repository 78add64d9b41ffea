"""Client mistakes become 4xx with a readable message; a missing model becomes 503.

A refusal never echoes the request's values back: they may be huge (a 100 MB body), hold
numbers JSON cannot write (NaN, Infinity, 1e400) or text UTF-8 cannot encode (a lone
surrogate), and the answer would fail with a 500 or cost as much as the request. Only the
error's type, its location (field names, shortened) and a message written by us are sent.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from service.registry import NoActiveModelError
from service.schemas.common import EXTERNAL_ID_PATTERN

log = logging.getLogger("service")

MAX_LOCATION_PART = 64  # characters of a field name (an unknown key is the client's text)
MAX_MESSAGE = 300
MAX_ERRORS = 20  # listed in "detail"; the rest are counted in "message"
_ID_MESSAGE = "the id is blank or contains a control character (such as NUL or a newline)"


def safe_text(value: object, limit: int) -> str:
    """``value`` as text that JSON and UTF-8 can always carry, at most ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    # Lone surrogates become \udxxx escapes instead of breaking the encoder.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _location(error: dict) -> list[str | int]:
    return [
        part if isinstance(part, int) else safe_text(part, MAX_LOCATION_PART)
        for part in error.get("loc", ())
    ]


def _message(error: dict) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == EXTERNAL_ID_PATTERN:
        return _ID_MESSAGE  # the id check of path parameters: words, not the regex
    return safe_text(error.get("msg", "invalid value"), MAX_MESSAGE)


def _describe(error: dict) -> str:
    if error.get("type") == "json_invalid":
        reason = safe_text((error.get("ctx") or {}).get("error", "JSON decode error"), 100)
        return f"the body is not valid JSON: {reason} (character {error['loc'][-1]})"
    location = ".".join(str(part) for part in _location(error) if part != "body") or "body"
    return f"{location}: {_message(error)}"


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    # A machine-readable list (type, location, message; never the input) plus one sentence a
    # person can act on.
    message = "invalid request: " + "; ".join(_describe(e) for e in errors[:5])
    if len(errors) > 5:
        message += f"; and {len(errors) - 5} more"
    detail = [
        {
            "type": safe_text(e.get("type", "value_error"), 64),
            "loc": _location(e),
            "msg": _message(e),
        }
        for e in errors[:MAX_ERRORS]
    ]
    return JSONResponse(status_code=422, content={"detail": detail, "message": message})


async def _not_unicode(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
    # JSON can spell a lone surrogate ("\ud800"), Python keeps it in a str, and the first
    # attempt to encode it fails: in a validator's message that quotes the value (pydantic
    # then raises this instead of a validation error), in the database, in an answer. Only a
    # client's text holds one, so it is the client's mistake, on every route.
    if exc.reason != "surrogates not allowed":
        raise exc
    log.info("refused %s %s: the request holds a lone surrogate", request.method, request.url.path)
    message = (
        "invalid request: the body holds text that is not valid Unicode "
        "(a lone surrogate such as \\ud800)"
    )
    return JSONResponse(
        status_code=422,
        content={
            "detail": [{"type": "string_unicode", "loc": ["body"], "msg": message}],
            "message": message,
        },
    )


async def _no_active_model(_request: Request, exc: NoActiveModelError) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": str(exc)},
        headers={"Retry-After": "5"},
    )


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnicodeEncodeError, _not_unicode)
    app.add_exception_handler(NoActiveModelError, _no_active_model)
