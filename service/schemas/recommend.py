"""POST /recommend and POST /recommend/batch."""

from __future__ import annotations

import json
import math
from typing import Annotated

import pydantic_core
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from service.recommendation import RankedBy, Recommendation, Source
from service.schemas.common import (
    ExternalId,
    JsonInt,
    ScoredItem,
    StrictRequest,
    check_external_id,
)

MAX_K = 1000
MAX_ID_LIST = 1000
MAX_BATCH = 500
MAX_OBJECTIVES = 32
MAX_OBJECTIVE_NAME = 64

ObjectiveName = Annotated[
    str,
    AfterValidator(lambda value: check_external_id(value, MAX_OBJECTIVE_NAME)),
    Field(examples=["buy"]),
]
ObjectiveWeight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


def _some_weight_positive(weights: dict[str, float]) -> dict[str, float]:
    if not any(weight > 0 for weight in weights.values()):
        raise PydanticCustomError(
            "weights_all_zero", "at least one objective weight must be positive"
        )
    return weights


Objectives = Annotated[
    dict[ObjectiveName, ObjectiveWeight],
    Field(max_length=MAX_OBJECTIVES),
    AfterValidator(_some_weight_positive),
]


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
    objectives: Objectives | None = Field(
        default=None,
        description="weight of each objective of the model's ranker (finite, >= 0, one of "
        "them > 0; objectives not named weigh 0); the items are ranked by the weighted mean "
        "of the objectives' probabilities. Default: the bundle's default weights. A model "
        "without a ranker answers in the retrieval order (ranked_by retrieval)",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user_id": "42", "k": 5},
                {"user_id": "42", "k": 10, "objectives": {"buy": 1.0, "cart": 0.2}},
            ]
        }
    )


class RecommendedItem(ScoredItem):
    score: float = Field(
        description="ranked_by ranker: the blended score, the weighted mean of the objectives' "
        "probabilities (in [0, 1]); ranked_by retrieval: the inner product of user and item "
        "vectors, except for source popular, where it is the item's number of training "
        "interactions"
    )
    probabilities: dict[str, float] | None = Field(
        default=None,
        description="ranked_by ranker: the ranker's probability of every objective for this "
        "user and item; null when ranked_by retrieval",
    )


class RecommendResponse(BaseModel):
    model_version: str
    user_id: str
    source: Source = Field(
        description="personalized: known user; history: unknown user, vector from the history; "
        "popular: unknown user without usable history (then each score is the item's number "
        "of training interactions, not an inner product)"
    )
    ranked_by: RankedBy = Field(
        default=RankedBy.RETRIEVAL,
        description="ranker: the bundle's ranker re-ranked the retrieval candidates by the "
        "blend of `weights`; retrieval: the model has no ranker, so the items are in the "
        "retrieval order (the request's objectives, if any, were not used)",
    )
    weights: dict[str, float] | None = Field(
        default=None,
        description="ranked_by ranker: the weight of every objective in the blend (the "
        "request's, or the bundle's default weights); null when ranked_by retrieval",
    )
    items: list[RecommendedItem]
    unknown_history_items: list[str] = Field(
        default_factory=list, description="history ids the model does not know (ignored)"
    )

    @classmethod
    def from_answer(cls, version: str, answer: Recommendation) -> RecommendResponse:
        """The answer of ``version`` as sent (also what activation's warm-up checks)."""
        probabilities = answer.probabilities or [None] * len(answer.item_ids)
        return cls(
            model_version=version,
            user_id=answer.user_id,
            source=answer.source,
            ranked_by=answer.ranked_by,
            weights=answer.weights,
            items=[
                RecommendedItem(item_id=i, score=s, probabilities=p)
                for i, s, p in zip(answer.item_ids, answer.scores, probabilities)
            ],
            unknown_history_items=answer.unknown_history_items,
        )


def recommendation_json(version: str, answer: Recommendation) -> bytes:
    """``RecommendResponse.from_answer(version, answer)`` as the JSON body FastAPI would send
    for it (compact, UTF-8, NaN refused), built straight from the answer: validating it again
    field by field and item by item costs more than computing a retrieval-only answer. The
    answer's types are the response's already (a test checks the two bodies are equal)."""
    probabilities = answer.probabilities or [None] * len(answer.item_ids)
    body = {
        "model_version": version,
        "user_id": answer.user_id,
        "source": answer.source.value,
        "ranked_by": answer.ranked_by.value,
        "weights": answer.weights,
        "items": [
            {"item_id": i, "score": s, "probabilities": p}
            for i, s, p in zip(answer.item_ids, answer.scores, probabilities)
        ],
        "unknown_history_items": answer.unknown_history_items,
    }
    finite = all(map(math.isfinite, answer.scores)) and all(
        math.isfinite(value) for p in answer.probabilities or () for value in p.values()
    )
    if not finite:  # refused as FastAPI's encoder refuses it (ValueError)
        return json.dumps(body, allow_nan=False).encode()
    return pydantic_core.to_json(body)  # compact UTF-8, several times faster than json.dumps


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
