"""Periodic work of an API process: follow the active version, reap jobs of dead workers.

One asyncio task per app, started and stopped by the app's lifespan. The blocking parts run
in worker threads, so requests keep being answered while a new model loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from service.state import ServiceState
from shared.db.job_queue import reap_stale_jobs

log = logging.getLogger("service.background")


def _reap(state: ServiceState) -> None:
    settings = state.settings
    for job in reap_stale_jobs(
        state.sessions, settings.job_heartbeat_timeout_seconds, settings.job_max_attempts
    ):
        log.warning("job %s: %s (now %s)", job.id, job.error, job.status)


async def _poll(state: ServiceState, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        for step in (state.registry.sync_active, lambda: _reap(state)):
            try:
                await asyncio.to_thread(step)
            except Exception:  # a database hiccup must not end the loop
                log.exception("background step failed; retrying in %.1f s", interval)


@contextlib.asynccontextmanager
async def background_tasks(state: ServiceState) -> AsyncIterator[None]:
    """Run the poll loop while the app runs (not at all when the interval is 0)."""
    interval = state.settings.active_poll_seconds
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_poll(state, interval), name="pmtrec-poll")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
