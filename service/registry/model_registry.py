"""The model registry: versions in the database, the active one in memory, atomic hot swap.

Activation builds the new ``LoadedModel`` (verify, load, index, encoder) beside the one that
serves, proves it answers (``warm_up``: one query of each kind through the real answer path),
records the switch in the database, and only then replaces one reference. A request
reads that reference once and keeps its model to the end, so requests in flight finish on
the old version and none fails; the old model is freed when the last of them is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.registry.errors import (
    ModelVersionConflictError,
    NoActiveModelError,
    UnknownModelVersionError,
)
from service.registry.loaded_model import LoadedModel
from service.registry.warm_up import warm_up
from shared.bundle import BundleError
from shared.db import ModelStatus, ModelVersion
from shared.db.versions import active_version, register_bundle, switch_active
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
        self._unloadable_version: str | None = None  # active in the database, refused here

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
        """Load the active version; with ``bootstrap_bundle``, register it and serve it.

        The bundle a start names is the one it serves: when the database marks another
        version active, that one is replaced (and the log says which), instead of the named
        bundle being registered but left idle while its ids are suggested in the banner.
        """
        with self._sessions() as session:
            row = active_version(session)
        if row is not None:
            try:
                self._active = self._load_and_warm_up(Path(row.path))
                self.load_error = None
                log.info("serving model %s from %s", row.id, row.path)
            except BundleError as error:
                self.load_error = f"active version {row.id} cannot be loaded: {error}"
                self._unloadable_version = row.id
                log.error("%s", self.load_error)
        if bootstrap_bundle is not None:
            version = self.register(bootstrap_bundle)
            serving = self._active.version if self._active is not None else None
            if serving == version.id:
                log.info("start-up bundle %s is already the active model", version.id)
                return
            self.activate(version.id)
            if serving is not None:
                log.warning(
                    "activated start-up bundle %s in place of the active model %s "
                    "(POST /models/%s/activate switches back)",
                    version.id,
                    serving,
                    serving,
                )
            else:
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
        with self._sessions() as session, session.begin():
            row = register_bundle(session, path)  # BundleError with the reason
        log.info("registered model %s from %s", row.id, row.path)
        return row

    def activate(self, version_id: str) -> ModelVersion:
        """Load ``version_id`` beside the serving model and swap it in atomically.

        A bundle that fails verification raises ``BundleError``; the serving model is kept.
        """
        with self._activation_lock:
            row = self.get_version(version_id)
            model = self._load_version(row)
            try:
                with self._sessions() as session, session.begin():
                    row = switch_active(session, version_id)
            except IntegrityError as error:  # another replica activated a version meanwhile
                raise ModelVersionConflictError(
                    f"activating {version_id!r} conflicts with a concurrent activation; retry"
                ) from error
            self._active = model  # the swap: one reference assignment
            self.load_error = None
            log.info("activated model %s", version_id)
            return row

    def sync_active(self) -> bool:
        """Serve the version the database marks active, if this process serves another.

        Called periodically by each API process, so that an activation made elsewhere (a
        worker after a retrain, another replica's admin call) reaches every replica. The new
        model is loaded beside the serving one and swapped in like ``activate``; a version
        that cannot be loaded is not retried until the database names another one, and the
        serving model is kept. Returns whether a swap happened.
        """
        with self._sessions() as session:
            row = active_version(session)
        if row is None or self._serves(row.id) or row.id == self._unloadable_version:
            return False
        with self._activation_lock:
            with self._sessions() as session:
                row = active_version(session)  # again, under the lock: it may have moved
            if row is None or self._serves(row.id):
                return False
            try:
                model = self._load_version(row)
            except BundleError as error:
                self._unloadable_version = row.id
                self.load_error = f"active version {row.id} cannot be loaded: {error}"
                return False
            self._active = model
            self.load_error = None
            log.info("now serving model %s (activated in the database)", row.id)
            return True

    def _serves(self, version_id: str) -> bool:
        model = self._active
        return model is not None and model.version == version_id

    def _load_version(self, row: ModelVersion) -> LoadedModel:
        """Load and check a version's bundle; refusals are recorded on its row."""
        try:
            model = self._load_and_warm_up(Path(row.path))
        except BundleError as error:
            self._record_refusal(row.id, str(error))
            raise
        if model.version != row.id:
            message = f"{row.path} now holds model version {model.version!r}, not {row.id!r}"
            self._record_refusal(row.id, message)
            raise BundleError(message)
        return model

    def _load_and_warm_up(self, path: Path) -> LoadedModel:
        """The loaded model, once it has answered a warm-up query of every kind."""
        model = self._loader(path, self._settings)
        warm_up(model)
        return model

    def _record_refusal(self, version_id: str, message: str) -> None:
        log.error("refused to activate %s: %s", version_id, message)
        with self._sessions() as session, session.begin():
            row = session.get(ModelVersion, version_id)
            if row is not None:
                row.error = message
                if row.status != ModelStatus.ACTIVE.value:
                    row.status = ModelStatus.INVALID.value
