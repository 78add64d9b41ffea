"""Turning a loaded model and a request into ranked items (personalised, cold start, popular;
re-ranked by the bundle's ranker when it has one)."""

from service.recommendation.recommender import (
    ObjectiveError,
    RankedBy,
    Recommendation,
    Source,
    UnknownItemError,
    UserQuery,
    recommend,
    similar_items,
)

__all__ = [
    "ObjectiveError",
    "RankedBy",
    "Recommendation",
    "Source",
    "UnknownItemError",
    "UserQuery",
    "recommend",
    "similar_items",
]
