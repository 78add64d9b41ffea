"""The app factory: ``create_app(settings)`` builds one independent service instance."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from service.background import background_tasks
from service.database import DatabaseProbe, install_database_error_handlers
from service.dependencies import require_api_key, require_reader
from service.exception_handlers import install_exception_handlers
from service.index import limit_faiss_threads
from service.limits import RequestBodyLimit
from service.observability import PrometheusMiddleware, ServiceMetrics
from service.registry import ModelRegistry
from service.routers import (
    evaluations,
    feedback,
    feedback_admin,
    health,
    items,
    jobs,
    metrics,
    models,
    recommend,
    retrain,
)
from service.routers.responses import API_KEY
from service.state import ServiceState
from shared.db import create_db_engine, create_session_factory, init_db
from shared.settings import Settings, get_settings

log = logging.getLogger("service")

DESCRIPTION = """Top-K recommendations from the active PMTRec model bundle.

Unknown users are answered from their `history` (ONNX user encoder) or with popular items;
`source` in each answer says which. Admin endpoints need `Authorization: Bearer <token>`.
`POST /retrain` and `POST /evaluations` queue jobs that workers (`python -m trainer.worker`)
run; follow them with `GET /jobs/{id}`."""


def create_app(
    settings: Settings | None = None, *, bootstrap_bundle: Path | None = None
) -> FastAPI:
    """A new app with its own database engine, model registry and metrics.

    On start-up (lifespan) it upgrades the database schema (migrations, unless
    ``auto_migrate`` is off), loads the active model version and, when ``bootstrap_bundle``
    is given, registers it and activates it (replacing another active version). While it
    runs, it follows the version the database marks active and reaps jobs whose worker died
    (``service.background``).
    """
    settings = settings or get_settings()
    engine = create_db_engine(settings.database_url)
    sessions = create_session_factory(engine)
    registry = ModelRegistry(sessions, settings)
    service_metrics = ServiceMetrics(lambda: _active_version(registry))
    state = ServiceState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        registry=registry,
        metrics=service_metrics,
        database_probe=DatabaseProbe(engine, settings.readiness_database_timeout_seconds),
        bootstrap_bundle=bootstrap_bundle,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_faiss_threads(settings.faiss_threads)
        if settings.auto_migrate:
            init_db(engine)
        registry.start(state.bootstrap_bundle)
        # What start-up made (modules, the loaded model) lives as long as the process: out
        # of the collector's way, a full collection under load stops every request for less.
        gc.collect()
        gc.freeze()
        try:
            async with background_tasks(state):
                yield
        finally:
            state.batcher.close()
            engine.dispose()

    # FastAPI's own /docs and /redoc pages load their scripts from a CDN and stay blank
    # without internet; FastAPIOffline serves the same pages with the assets it ships.
    app = FastAPIOffline(
        title="PMTRec recommendation service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.service = state
    install_exception_handlers(app)
    # Added last = outermost: the metrics count the 413s of the body limit too.
    app.add_middleware(RequestBodyLimit, max_bytes=settings.max_request_bytes)
    install_database_error_handlers(app)
    app.add_middleware(PrometheusMiddleware, metrics=service_metrics)
    # The API key checks are mounted only when a key is configured, so that they cost nothing
    # per request otherwise. With a key set, what is deployed (models, evaluations, metrics)
    # is not public either: those routes take the key or the admin token (docs/service.md,
    # "Authentication").
    keyed = settings.api_key is not None
    client_auth = _auth(require_api_key) if keyed else {}
    reader_auth = _auth(require_reader) if keyed else {}
    for router in (recommend.router, items.router, feedback.router):
        app.include_router(router, **client_auth)
    for router in (models.router, evaluations.router):
        app.include_router(router, **reader_auth)
    app.include_router(metrics.router, **({} if settings.public_metrics else reader_auth))
    for router in (feedback_admin.router, retrain.router, jobs.router, health.router):
        app.include_router(router)
    return app


def _auth(check: Callable[..., Awaitable[None]]) -> dict[str, Any]:
    return {"dependencies": [Depends(check)], "responses": API_KEY}


def _active_version(registry: ModelRegistry) -> str | None:
    model = registry.active
    return model.version if model is not None else None
