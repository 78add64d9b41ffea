"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.recommendation import Recommendation, Source
from service.schemas.common import ExternalId, JsonInt, ScoredItem, StrictRequest

MAX_K = 1000
MAX_ID_LIST = 1000
MAX_BATCH = 500


class RecommendRequest(StrictRequest):
    user_id: ExternalId
    k: JsonInt = Field(default=10, ge=1, le=MAX_K, description="number of items to return")
    exclude_seen: bool = Field(
        default=True, description="leave out the user's training items (and the given history)"
    )
    exclude: Annotated[list[ExternalId], Field(max_length=MAX_ID_LIST)] = Field(
        default_factory=list, description="item ids never to return"
    )
    history: Annotated[list[ExternalId], Field(max_length=MAX_ID_LIST)] | None = Field(
        default=None,
        description="item ids the user interacted with; used for users the model does not know",
    )

    model_config = ConfigDict(json_schema_extra={"examples": [{"user_id": "42", "k": 5}]})


class RecommendResponse(BaseModel):
    model_version: str
    user_id: str
    source: Source = Field(
        description="personalized: known user; history: unknown user, vector from the history; "
        "popular: unknown user without usable history (then each score is the item's number "
        "of training interactions, not an inner product)"
    )
    items: list[ScoredItem]
    unknown_history_items: list[str] = Field(
        default_factory=list, description="history ids the model does not know (ignored)"
    )

    @classmethod
    def from_answer(cls, version: str, answer: Recommendation) -> RecommendResponse:
        """The answer of ``version`` as sent (also what activation's warm-up checks)."""
        return cls(
            model_version=version,
            user_id=answer.user_id,
            source=answer.source,
            items=[ScoredItem(item_id=i, score=s) for i, s in zip(answer.item_ids, answer.scores)],
            unknown_history_items=answer.unknown_history_items,
        )


class BatchRecommendRequest(StrictRequest):
    requests: Annotated[
        list[RecommendRequest],
        Field(
            min_length=1,
            max_length=MAX_BATCH,
            description="at most PMTREC_MAX_BATCH_SIZE requests (default 100) asking for at "
            "most PMTREC_MAX_BATCH_ITEMS items in all (the sum of k, default 10000)",
        ),
    ]


class BatchRecommendResponse(BaseModel):
    model_version: str
    results: list[RecommendResponse]
