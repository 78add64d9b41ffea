"""Types shared by several schemas."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

# An external user or item id: 1..256 characters, not blank, no control characters
# (ids are stored in the database, and PostgreSQL text cannot hold NUL).
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256, pattern=EXTERNAL_ID_PATTERN),
    Field(examples=["42"]),
]
ModelVersionId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=EXTERNAL_ID_PATTERN)
]


def _json_number(value: Any) -> Any:
    # Strict models refuse 10.0 for an integer, yet JSON Schema counts it as one; strings and
    # booleans stay errors.
    if isinstance(value, (str, bool)):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# An integer in a strict request body that also accepts integral JSON numbers such as 10.0.
JsonInt = Annotated[int, Field(strict=False), BeforeValidator(_json_number)]


class StrictRequest(BaseModel):
    """Request bodies: wrong types and unknown fields are errors, not silently coerced."""

    model_config = ConfigDict(strict=True, extra="forbid")


class ErrorResponse(BaseModel):
    """Every error answer except request validation (422) has this shape."""

    detail: str = Field(examples=["no model is loaded yet"])


class ScoredItem(BaseModel):
    item_id: str
    score: float
