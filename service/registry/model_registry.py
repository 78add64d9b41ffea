"""The model registry: versions in the database, the active one in memory, atomic hot swap.

Activation builds the new ``LoadedModel`` (verify, load, index, encoder) beside the one that
serves, records the switch in the database, and only then replaces one reference. A request
reads that reference once and keeps its model to the end, so requests in flight finish on
the old version and none fails; the old model is freed when the last of them is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.registry.errors import (
    ModelVersionConflictError,
    NoActiveModelError,
    UnknownModelVersionError,
)
from service.registry.loaded_model import LoadedModel
from shared.bundle import BundleError, verify_bundle
from shared.db import ModelStatus, ModelVersion
from shared.settings import Settings

log = logging.getLogger("service.registry")

ModelLoader = Callable[[Path, Settings], LoadedModel]


class ModelRegistry:
    """Registers bundles, activates versions and hands out the active model."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        loader: ModelLoader = LoadedModel.load,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._loader = loader
        self._active: LoadedModel | None = None
        self._activation_lock = threading.Lock()
        self.load_error: str | None = None  # why the active version could not be loaded

    # -- serving ---------------------------------------------------------------------------
    @property
    def active(self) -> LoadedModel | None:
        """The model that answers now (a plain reference read, so always a whole model)."""
        return self._active

    def require_active(self) -> LoadedModel:
        model = self._active
        if model is None:
            reason = f" ({self.load_error})" if self.load_error else ""
            raise NoActiveModelError(
                "no model is loaded yet: register a bundle and activate it "
                f"(POST /models, POST /models/{{id}}/activate) or start with --bundle{reason}"
            )
        return model

    # -- start-up --------------------------------------------------------------------------
    def start(self, bootstrap_bundle: Path | None = None) -> None:
        """Load the active version; register and activate ``bootstrap_bundle`` if none serves."""
        with self._sessions() as session:
            row = session.scalars(
                select(ModelVersion).where(ModelVersion.status == ModelStatus.ACTIVE.value)
            ).first()
        if row is not None:
            try:
                self._active = self._loader(Path(row.path), self._settings)
                self.load_error = None
                log.info("serving model %s from %s", row.id, row.path)
            except BundleError as error:
                self.load_error = f"active version {row.id} cannot be loaded: {error}"
                log.error("%s", self.load_error)
        if bootstrap_bundle is not None:
            version = self.register(bootstrap_bundle)
            if self._active is None:
                self.activate(version.id)
                log.info("activated start-up bundle %s", version.id)

    # -- versions --------------------------------------------------------------------------
    def list_versions(self) -> list[ModelVersion]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(ModelVersion).order_by(ModelVersion.registered_at, ModelVersion.id)
                )
            )

    def get_version(self, version_id: str) -> ModelVersion:
        with self._sessions() as session:
            row = session.get(ModelVersion, version_id)
        if row is None:
            raise UnknownModelVersionError(f"model version {version_id!r} is not registered")
        return row

    def register(self, path: Path) -> ModelVersion:
        """Verify the bundle at ``path`` and record it (idempotent for the same folder)."""
        path = Path(path).resolve()
        manifest = verify_bundle(path)  # raises BundleError with the reason
        version_id = str(manifest["model_version"])
        with self._sessions() as session, session.begin():
            row = session.get(ModelVersion, version_id)
            if row is not None:
                if Path(row.path) != path:
                    raise ModelVersionConflictError(
                        f"model version {version_id!r} is already registered from {row.path}"
                    )
                return row
            row = ModelVersion(
                id=version_id,
                dataset=str(manifest.get("dataset", "")),
                method=str(manifest.get("method", "")),
                hyperparameters=manifest.get("hyperparameters") or {},
                metrics=manifest.get("metrics") or {},
                path=str(path),
                num_users=int(manifest.get("num_users", 0)),
                num_items=int(manifest.get("num_items", 0)),
                dim=int(manifest.get("dim", 0)),
                created_at=_parse_time(manifest.get("created_at")),
                status=ModelStatus.REGISTERED.value,
            )
            session.add(row)
        log.info("registered model %s from %s", version_id, path)
        return row

    def activate(self, version_id: str) -> ModelVersion:
        """Load ``version_id`` beside the serving model and swap it in atomically.

        A bundle that fails verification raises ``BundleError``; the serving model is kept.
        """
        with self._activation_lock:
            row = self.get_version(version_id)
            try:
                model = self._loader(Path(row.path), self._settings)
            except BundleError as error:
                self._record_refusal(version_id, str(error))
                raise
            if model.version != version_id:
                message = (
                    f"{row.path} now holds model version {model.version!r}, not {version_id!r}"
                )
                self._record_refusal(version_id, message)
                raise BundleError(message)
            try:
                with self._sessions() as session, session.begin():
                    session.execute(
                        update(ModelVersion)
                        .where(
                            ModelVersion.status == ModelStatus.ACTIVE.value,
                            ModelVersion.id != version_id,
                        )
                        .values(status=ModelStatus.RETIRED.value)
                    )
                    session.flush()
                    row = session.get(ModelVersion, version_id)
                    if row is None:
                        raise UnknownModelVersionError(
                            f"model version {version_id!r} was removed during activation"
                        )
                    row.status = ModelStatus.ACTIVE.value
                    row.activated_at = datetime.now(timezone.utc)
                    row.error = None
            except IntegrityError as error:  # another replica activated a version meanwhile
                raise ModelVersionConflictError(
                    f"activating {version_id!r} conflicts with a concurrent activation; retry"
                ) from error
            self._active = model  # the swap: one reference assignment
            self.load_error = None
            log.info("activated model %s", version_id)
            return row

    def _record_refusal(self, version_id: str, message: str) -> None:
        log.error("refused to activate %s: %s", version_id, message)
        with self._sessions() as session, session.begin():
            row = session.get(ModelVersion, version_id)
            if row is not None:
                row.error = message
                if row.status != ModelStatus.ACTIVE.value:
                    row.status = ModelStatus.INVALID.value


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
