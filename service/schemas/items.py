"""GET /items/{item_id}/similar."""

from __future__ import annotations

from pydantic import BaseModel

from service.schemas.common import ScoredItem


class SimilarItemsResponse(BaseModel):
    model_version: str
    item_id: str
    items: list[ScoredItem]
