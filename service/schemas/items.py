"""GET /items/{item_id}/similar."""

from __future__ import annotations

from pydantic import BaseModel

from service.schemas.common import ScoredItem


class SimilarItemsResponse(BaseModel):
    model_version: str
    item_id: str
    items: list[ScoredItem]

    @classmethod
    def from_answer(
        cls, version: str, item_id: str, item_ids: list[str], scores: list[float]
    ) -> SimilarItemsResponse:
        """The answer as sent (also what activation's warm-up checks)."""
        return cls(
            model_version=version,
            item_id=item_id,
            items=[ScoredItem(item_id=i, score=s) for i, s in zip(item_ids, scores)],
        )
