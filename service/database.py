"""A database that cannot be reached becomes 503 with Retry-After, never a 500.

While the database is down (PostgreSQL restarting, a network cut, a locked SQLite file),
writes such as ``POST /feedback`` cannot be stored: the client must hear so and retry,
rather than get a 500 it may not retry, or nothing. The engine reconnects on its own
(``pool_pre_ping``), so answers recover once the database is back.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = logging.getLogger("service.database")

# Errors that say the database is unreachable or busy, not that the request was wrong.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


def unavailable_answer(
    retry_after: int,
    detail: str = "the database is unavailable; nothing was changed, retry later",
) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": detail},
        headers={"Retry-After": str(retry_after)},
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The driver's message (host, port, file) goes to the log, not to the client.
    log.warning(
        "%s %s: database unavailable: %s",
        request.method,
        request.url.path,
        " ".join(str(exc).split())[:500],
    )
    return unavailable_answer(request.app.state.service.settings.database_retry_after_seconds)


def install_database_error_handlers(app: FastAPI) -> None:
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)


def database_reachable(engine: Engine) -> bool:
    """One ``SELECT 1`` on a pooled connection; False (logged) if the database is away."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness: database unreachable: %s", " ".join(str(error).split())[:500])
        return False
    return True


class DatabaseProbe:
    """The readiness check of the database, bounded in time and in threads.

    The query runs in a worker thread; callers wait at most ``timeout`` seconds for it. A
    query that hangs (a dropped network) is not started again while it is in flight:
    concurrent and later callers share it, so probes cannot pile up threads.
    """

    def __init__(self, engine: Engine, timeout: float) -> None:
        self.engine = engine
        self.timeout = timeout
        self._in_flight: asyncio.Future[bool] | None = None

    async def reachable(self) -> bool:
        if self._in_flight is None or self._in_flight.done():
            self._in_flight = asyncio.ensure_future(
                asyncio.to_thread(database_reachable, self.engine)
            )
        try:
            return await asyncio.wait_for(asyncio.shield(self._in_flight), self.timeout)
        except TimeoutError:
            log.warning("readiness: the database did not answer within %g s", self.timeout)
            return False
