"""Activation's proof that a model serves: real queries through the real answer path.

Checksums prove a bundle is the one that was written, not that it can answer: a bundle whose
item ids were rewritten as integers (checksums updated) verifies, loads, and then fails every
``/recommend``. So before a model goes live, as TF-Serving and Triton do with warm-up
requests, it answers one query of each kind the service serves (a known user, a cold-start
history, a user with neither, similar items), and each answer is built and rendered as the
routers send it. A two-stage model ranks each of these queries' candidates with its ranker
(the bundle's default weights, then each objective alone), so a ranker that does not run or
answers other than probabilities is refused too. Any failure refuses the model; the serving
one is kept.
"""

from __future__ import annotations

import math

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from service.recommendation import UserQuery, recommend, similar_items
from service.registry.loaded_model import LoadedModel
from service.schemas.items import SimilarItemsResponse
from service.schemas.recommend import RecommendResponse
from shared.bundle import BundleError

WARM_UP_K = 10


def warm_up(model: LoadedModel) -> None:
    """Raise ``BundleError`` unless ``model`` answers every kind of query."""
    bundle = model.bundle
    k = min(WARM_UP_K, bundle.num_items)
    stranger = _unknown_user_id(model)
    queries = [UserQuery(user_id=stranger, k=k)]  # popular
    if bundle.num_items:
        queries.append(UserQuery(user_id=stranger, k=k, history=[bundle.item_ids[0]]))
    if bundle.num_users:
        queries.append(UserQuery(user_id=bundle.user_ids[0], k=k))
    if model.ranker is not None:
        queries += [
            UserQuery(user_id=queries[-1].user_id, k=k, objectives={name: 1.0})
            for name in model.ranker.objectives
        ]
    step = "recommend"
    try:
        for query in queries:
            step = f"recommend ({_kind(model, query)})"
            (answer,) = recommend(model, [query])
            response = RecommendResponse.from_answer(model.version, answer)
            _check_scores(answer.scores)
            for probabilities in answer.probabilities or []:
                _check_probabilities(list(probabilities.values()))
            _render(response)
        step = "similar items"
        item_id = bundle.item_ids[0]
        item_ids, scores = similar_items(model, item_id, k)
        _check_scores(scores)
        _render(SimilarItemsResponse.from_answer(model.version, item_id, item_ids, scores))
    except Exception as error:  # anything: the model is refused, never served
        raise BundleError(
            f"{bundle.path}: the warm-up query {step} failed, so the model cannot serve: "
            f"{type(error).__name__}: {str(error)[:300]}"
        ) from error


def _kind(model: LoadedModel, query: UserQuery) -> str:
    if query.objectives:
        return f"ranked by {', '.join(query.objectives)}"
    if query.user_id in model.bundle.user_rows:
        return "known user"
    return "cold-start history" if query.history else "popular"


def _unknown_user_id(model: LoadedModel) -> str:
    candidate = "warm-up-user"
    while candidate in model.bundle.user_rows:
        candidate += "-"
    return candidate


def _check_scores(scores: list[float]) -> None:
    if not all(isinstance(s, float) and math.isfinite(s) for s in scores):
        raise ValueError("an answer holds a score that is not a finite number")


def _check_probabilities(values: list[float]) -> None:
    if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values):
        raise ValueError("the ranker answered a value that is not a probability in [0, 1]")


def _render(response: object) -> None:
    # What FastAPI does with a route's return value: JSON with NaN refused, UTF-8 encoded.
    JSONResponse(jsonable_encoder(response))
