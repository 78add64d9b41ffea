"""The app factory: ``create_app(settings)`` builds one independent service instance."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from service.dependencies import require_api_key
from service.exception_handlers import install_exception_handlers
from service.index import limit_faiss_threads
from service.observability import PrometheusMiddleware, ServiceMetrics
from service.registry import ModelRegistry
from service.routers import feedback, health, items, metrics, models, recommend
from service.routers.responses import API_KEY
from service.state import ServiceState
from shared.db import create_db_engine, create_session_factory, init_db
from shared.settings import Settings, get_settings

log = logging.getLogger("service")

DESCRIPTION = """Top-K recommendations from the active PMTRec model bundle.

Unknown users are answered from their `history` (ONNX user encoder) or with popular items;
`source` in each answer says which. Admin endpoints need `Authorization: Bearer <token>`."""


def create_app(
    settings: Settings | None = None, *, bootstrap_bundle: Path | None = None
) -> FastAPI:
    """A new app with its own database engine, model registry and metrics.

    On start-up (lifespan) it creates missing tables, loads the active model version and, when
    ``bootstrap_bundle`` is given, registers it and activates it if no model is active yet.
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
        bootstrap_bundle=bootstrap_bundle,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_faiss_threads(settings.faiss_threads)
        init_db(engine)
        registry.start(state.bootstrap_bundle)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="PMTRec recommendation service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.service = state
    install_exception_handlers(app)
    app.add_middleware(PrometheusMiddleware, metrics=service_metrics)
    # The API key check is mounted only when a key is configured, so that it costs nothing
    # per request otherwise.
    client_auth = (
        {"dependencies": [Depends(require_api_key)], "responses": API_KEY}
        if settings.api_key is not None and settings.api_key.get_secret_value()
        else {}
    )
    for router in (recommend.router, items.router, feedback.router):
        app.include_router(router, **client_auth)
    for router in (models.router, health.router, metrics.router):
        app.include_router(router)
    return app


def _active_version(registry: ModelRegistry) -> str | None:
    model = registry.active
    return model.version if model is not None else None
