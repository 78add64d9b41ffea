"""Types shared by several schemas."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# An external user or item id: 1..256 characters, not blank, no control characters
# (ids are stored in the database, and PostgreSQL text cannot hold NUL). The pattern is
# published in the OpenAPI schema; the check itself is ``_external_id``, so that a refusal
# says in words what is wrong instead of quoting the regex.
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
MAX_ID_LENGTH = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_external_id(value: str, max_length: int = MAX_ID_LENGTH) -> str:
    """``value`` if it is a usable id, else a ``PydanticCustomError`` saying why in words.

    Lone surrogates (``"\\ud800"``, which JSON can spell) are refused too: they cannot be
    encoded as UTF-8, so they could be neither stored nor echoed in an answer.
    """
    if not value:
        raise PydanticCustomError("id_empty", "the id is empty")
    if len(value) > max_length:
        raise PydanticCustomError(
            "id_too_long",
            "the id is longer than {max_length} characters",
            {"max_length": max_length},
        )
    if not value.strip():
        raise PydanticCustomError("id_blank", "the id is blank (only white space)")
    if _CONTROL.search(value):
        raise PydanticCustomError(
            "id_control_character", "the id contains a control character (such as NUL or a newline)"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "id_not_unicode", "the id contains a lone surrogate (not valid Unicode text)"
        ) from None
    return value


def _id_schema(max_length: int) -> dict[str, Any]:
    return {"minLength": 1, "maxLength": max_length, "pattern": EXTERNAL_ID_PATTERN}


ExternalId = Annotated[
    str,
    AfterValidator(check_external_id),
    Field(examples=["42"], json_schema_extra=_id_schema(MAX_ID_LENGTH)),
]
ModelVersionId = Annotated[
    str,
    AfterValidator(lambda value: check_external_id(value, 200)),
    Field(json_schema_extra=_id_schema(200)),
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
    score: float = Field(
        description="the ranking score: the inner product of user and item vectors, except "
        "for source popular, where it is the item's number of training interactions"
    )
