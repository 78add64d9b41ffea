"""FastAPI dependencies: settings, registry, database sessions and the auth checks.

The cheap ones are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its
thread pool, which costs more than the dependency itself on every request.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.registry import LoadedModel, ModelRegistry
from service.state import ServiceState
from shared.settings import Settings


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


async def get_settings(state: Annotated[ServiceState, Depends(get_state)]) -> Settings:
    return state.settings


async def get_registry(state: Annotated[ServiceState, Depends(get_state)]) -> ModelRegistry:
    return state.registry


async def get_active_model(request: Request) -> LoadedModel:
    """The model for this request, read once: it stays the same even if a swap happens.

    Reads the registry from the app state directly rather than through ``get_registry``:
    each nested dependency costs FastAPI tens of microseconds on the hottest route.
    """
    # NoActiveModelError -> 503 (see exception_handlers)
    return request.app.state.service.registry.require_active()


def get_session(state: Annotated[ServiceState, Depends(get_state)]) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


_bearer = HTTPBearer(auto_error=False, description="PMTREC_ADMIN_TOKEN")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="PMTREC_API_KEY")


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """``Authorization: Bearer <PMTREC_ADMIN_TOKEN>``; 403 when no token is configured."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "admin endpoints are disabled: set PMTREC_ADMIN_TOKEN to enable them",
        )
    if credentials is None or not _same_secret(
        credentials.credentials, settings.admin_token.get_secret_value()
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong admin token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_api_key(
    request: Request, api_key: Annotated[str | None, Depends(_api_key)]
) -> None:
    """``X-API-Key: <PMTREC_API_KEY>``; mounted on the client routes when a key is set."""
    settings: Settings = request.app.state.service.settings  # direct: see get_active_model
    if settings.api_key is None or not settings.api_key.get_secret_value():
        return
    if api_key is None or not _same_secret(api_key, settings.api_key.get_secret_value()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-API-Key header")


def _admin_token_matches(
    settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> bool:
    token = settings.admin_token
    return (
        token is not None
        and credentials is not None
        and _same_secret(credentials.credentials, token.get_secret_value())
    )


async def require_reader(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With ``PMTREC_API_KEY`` set, reading /models, evaluations and /metrics needs the
    client key or the admin token: they reveal what is deployed. Open otherwise."""
    settings: Settings = request.app.state.service.settings
    if settings.api_key is None:
        return
    if api_key is not None and _same_secret(api_key, settings.api_key.get_secret_value()):
        return
    if _admin_token_matches(settings, credentials):
        return
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or wrong X-API-Key header (or admin token: Authorization: Bearer <token>)",
    )


async def require_feedback_allowed(request: Request) -> None:
    """Feedback becomes training data: without an API key (which ``require_api_key`` checks
    when set), it is refused unless ``PMTREC_ALLOW_ANONYMOUS_FEEDBACK`` accepts anyone's."""
    settings: Settings = request.app.state.service.settings
    if settings.api_key is None and not settings.allow_anonymous_feedback:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "feedback is disabled: it needs a client key (set PMTREC_API_KEY and send "
            "X-API-Key), or PMTREC_ALLOW_ANONYMOUS_FEEDBACK=true to accept it from anyone",
        )


async def is_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> bool:
    """Whether the caller sent the admin token (server paths are shown only to admins)."""
    return _admin_token_matches(settings, credentials)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
ActiveModelDep = Annotated[LoadedModel, Depends(get_active_model)]
StateDep = Annotated[ServiceState, Depends(get_state)]
SessionDep = Annotated[Session, Depends(get_session)]
IsAdminDep = Annotated[bool, Depends(is_admin)]
