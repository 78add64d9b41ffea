"""Model versions: list, inspect, register (admin) and activate with a hot swap (admin)."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from service.dependencies import IsAdminDep, RegistryDep, SettingsDep, require_admin
from service.exception_handlers import safe_text
from service.registry import ModelVersionConflictError, UnknownModelVersionError
from service.routers.responses import ADMIN
from service.schemas.common import EXTERNAL_ID_PATTERN, ErrorResponse
from service.schemas.models import ModelVersionList, ModelVersionOut, RegisterModelRequest
from shared.bundle import BundleError

router = APIRouter(prefix="/models", tags=["models"])

# Ids without control characters: PostgreSQL text cannot hold NUL, so such an id is no version.
VersionPath = Annotated[str, Path(min_length=1, max_length=200, pattern=EXTERNAL_ID_PATTERN)]
NOT_FOUND = {404: {"model": ErrorResponse, "description": "Unknown model version."}}
REFUSED = {
    409: {
        "model": ErrorResponse,
        "description": "The bundle does not verify or conflicts with the registry.",
    }
}


def _shown(row: object, admin: bool) -> ModelVersionOut:
    # Absolute server paths tell an attacker where bundles live: admins only.
    out = ModelVersionOut.model_validate(row)
    return out if admin else out.model_copy(update={"path": None})


@router.get("", summary="Registered model versions")
def list_models(registry: RegistryDep, admin: IsAdminDep) -> ModelVersionList:
    active = registry.active
    return ModelVersionList(
        active_version=active.version if active is not None else None,
        versions=[_shown(v, admin) for v in registry.list_versions()],
    )


@router.get("/{model_id}", summary="One model version", responses=NOT_FOUND)
def get_model(model_id: VersionPath, registry: RegistryDep, admin: IsAdminDep) -> ModelVersionOut:
    try:
        return _shown(registry.get_version(model_id), admin)
    except UnknownModelVersionError as error:
        raise HTTPException(404, str(error)) from error


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a bundle folder (verified, not activated)",
    dependencies=[Depends(require_admin)],
    responses={
        **ADMIN,
        **REFUSED,
        400: {
            "model": ErrorResponse,
            "description": "Path outside the bundle root, or one the file system cannot use.",
        },
    },
)
def register_model(
    request: RegisterModelRequest, registry: RegistryDep, settings: SettingsDep
) -> ModelVersionOut:
    root = settings.bundle_root.resolve()
    try:
        path = FilePath(request.path).resolve()
    except (OSError, ValueError) as error:
        raise HTTPException(400, f"invalid path: {_reason(error)}") from error
    if not path.is_relative_to(root):
        raise HTTPException(400, f"bundles are registered from inside the bundle root {root}")
    try:
        return ModelVersionOut.model_validate(registry.register(path))
    except (BundleError, ModelVersionConflictError) as error:
        raise HTTPException(409, str(error)) from error
    except (OSError, ValueError) as error:
        # A name too long for the file system, a NUL byte, a folder we may not read: the
        # client's path is unusable, which is a 400, not a server error.
        raise HTTPException(400, f"the path cannot be read: {_reason(error)}") from error


def _reason(error: Exception) -> str:
    # strerror alone ("File name too long"): the OSError text would repeat the whole path.
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return safe_text(reason, 200)


# A plain def: FastAPI runs it in a worker thread, so loading the new bundle and building its
# index never blocks the event loop that keeps answering requests on the old model.
@router.post(
    "/{model_id}/activate",
    summary="Load a version beside the serving one and swap it in atomically",
    dependencies=[Depends(require_admin)],
    responses={**ADMIN, **NOT_FOUND, **REFUSED},
)
def activate_model(model_id: VersionPath, registry: RegistryDep) -> ModelVersionOut:
    try:
        return ModelVersionOut.model_validate(registry.activate(model_id))
    except UnknownModelVersionError as error:
        raise HTTPException(404, str(error)) from error
    except BundleError as error:
        raise HTTPException(409, f"bundle refused, the serving model is kept: {error}") from error
    except ModelVersionConflictError as error:
        raise HTTPException(409, str(error)) from error
