"""What one app instance owns: settings, database, model registry, metrics and the thread
that answers single recommendations.

Stored on ``app.state.service`` by the app factory and reached only through the
dependencies in ``service.dependencies``, so a test builds its own with ``create_app``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.database import DatabaseProbe
from service.observability import ServiceMetrics
from service.recommendation.batcher import RecommendBatcher
from service.registry import ModelRegistry
from shared.settings import Settings


@dataclass
class ServiceState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: ModelRegistry
    metrics: ServiceMetrics
    database_probe: DatabaseProbe
    bootstrap_bundle: Path | None = None
    batcher: RecommendBatcher = field(default_factory=RecommendBatcher)  # POST /recommend
