"""Errors of the model registry (the routers turn them into HTTP answers)."""

from __future__ import annotations

# Raised by the database layer too (workers register and activate versions); one class each.
from shared.db.errors import ModelVersionConflictError, UnknownModelVersionError


class NoActiveModelError(Exception):
    """No model version is loaded, so nothing can be recommended yet."""


__all__ = ["ModelVersionConflictError", "NoActiveModelError", "UnknownModelVersionError"]
