"""Registering and activating model versions: the database side, shared by the service's
registry (admin endpoints) and the workers (retraining)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.bundle import verify_bundle
from shared.db.errors import ModelVersionConflictError, UnknownModelVersionError
from shared.db.model_version import ModelStatus, ModelVersion


def add_version(session: Session, path: Path, manifest: dict[str, Any]) -> ModelVersion:
    """Record the verified bundle at ``path`` in ``session``'s transaction (idempotent for
    the same folder; a version id taken by another folder is a conflict)."""
    path = Path(path).resolve()
    version_id = str(manifest["model_version"])
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
    session.flush()
    return row


def register_bundle(session: Session, path: Path) -> ModelVersion:
    """Verify every checksum of the bundle at ``path`` (``BundleError`` with the reason),
    then record it in ``session``'s transaction."""
    return add_version(session, path, verify_bundle(Path(path).resolve()))


def active_version(session: Session, *, for_update: bool = False) -> ModelVersion | None:
    """The version the database marks active (row-locked with ``for_update`` on PostgreSQL)."""
    query = select(ModelVersion).where(ModelVersion.status == ModelStatus.ACTIVE.value)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def switch_active(session: Session, version_id: str) -> ModelVersion:
    """Mark ``version_id`` active and the previous active version retired, in ``session``'s
    transaction. A concurrent activation elsewhere makes the commit fail (IntegrityError on
    the one-active index), never leaves two versions active."""
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.status == ModelStatus.ACTIVE.value, ModelVersion.id != version_id)
        .values(status=ModelStatus.RETIRED.value)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    row = session.get(ModelVersion, version_id, populate_existing=True)
    if row is None:
        raise UnknownModelVersionError(f"model version {version_id!r} is not registered")
    row.status = ModelStatus.ACTIVE.value
    row.activated_at = datetime.now(timezone.utc)
    row.error = None
    session.flush()
    return row


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
