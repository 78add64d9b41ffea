"""ASGI middleware that refuses request bodies above ``max_request_bytes`` with 413.

Checked twice: a declared ``Content-Length`` over the limit is refused before a byte of the
body is read, and a body without one (chunked) is counted while it streams in and refused as
soon as it passes the limit. Either way the server never holds more than the limit (plus one
chunk) of a request, and the answer is a short message, never the body.
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("service.limits")


class RequestBodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit.

    An ``HTTPException``, so that FastAPI's body parsing passes it on as a 413 instead of
    turning it into a 400 "error parsing the body".
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large_message(max_bytes))


def too_large_message(max_bytes: int) -> str:
    return (
        f"the request body is larger than {max_bytes} bytes (PMTREC_MAX_REQUEST_BYTES); "
        "send fewer items per request"
    )


class RequestBodyLimit:
    """Plain ASGI, like the metrics middleware: no task or buffering per request."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await _send_error(send, 400, "the Content-Length header is not a valid length")
            return
        if declared is not None and declared > self.max_bytes:
            log.warning(
                "refused %s %s: Content-Length %d > %d bytes",
                scope["method"],
                scope["path"][:200],
                declared,
                self.max_bytes,
            )
            await _send_error(send, 413, too_large_message(self.max_bytes))
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    log.warning(
                        "refused %s %s: body over %d bytes",
                        scope["method"],
                        scope["path"][:200],
                        self.max_bytes,
                    )
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestBodyTooLarge as error:
            # Reached here only when no handler answered it (a route that reads the body
            # outside FastAPI's parsing); answer it the same way (already logged).
            if started:
                raise
            await _send_error(send, 413, str(error.detail))


def _content_length(scope: Scope) -> int | None:
    """The declared body length, None when absent, -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def _send_error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
