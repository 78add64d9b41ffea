"""Model registry: which versions exist (database), which one serves (memory), hot swap."""

from service.registry.errors import (
    ModelVersionConflictError,
    NoActiveModelError,
    UnknownModelVersionError,
)
from service.registry.loaded_model import LoadedModel
from service.registry.model_registry import ModelRegistry

__all__ = [
    "LoadedModel",
    "ModelRegistry",
    "ModelVersionConflictError",
    "NoActiveModelError",
    "UnknownModelVersionError",
]
