"""Errors of the model registry (the routers turn them into HTTP answers)."""

from __future__ import annotations


class NoActiveModelError(Exception):
    """No model version is loaded, so nothing can be recommended yet."""


class UnknownModelVersionError(LookupError):
    """The model version is not registered."""


class ModelVersionConflictError(Exception):
    """The request conflicts with the registry's state (e.g. a version id taken by another path)."""
