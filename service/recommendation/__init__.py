"""Turning a loaded model and a request into ranked items (personalised, cold start, popular)."""

from service.recommendation.recommender import (
    Recommendation,
    Source,
    UnknownItemError,
    UserQuery,
    recommend,
    similar_items,
)

__all__ = [
    "Recommendation",
    "Source",
    "UnknownItemError",
    "UserQuery",
    "recommend",
    "similar_items",
]
