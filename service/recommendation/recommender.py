"""Ranking for known users, cold-start users with a history, and everyone else.

- ``personalized``: the user's trained vector against the item index.
- ``history``: an unknown user's vector from the bundle's ONNX encoder over the given items.
- ``popular``: an unknown user without usable history gets the most popular items
  (score = number of training interactions).

Seen items (the user's training items, plus the given history) are left out when
``exclude_seen``; the request's ``exclude`` ids always are. All queries of a call are
searched in one FAISS call and answered from one model version.

A model with a ranker (a two-stage bundle) ranks in two stages: the source above gives each
query's top ``max(ranker_candidates, k)`` candidates (exclusions applied first), the ranker
scores every candidate of the call for every objective in one onnxruntime run, and the query's
objective weights blend those probabilities into the score the top k are chosen by. A model
without one answers in the retrieval order, whatever weights a query names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from shared.bundle import check_objective_weights

if TYPE_CHECKING:  # the registry's warm-up imports this module
    from service.ranker import OnnxRanker
    from service.registry.loaded_model import LoadedModel


class Source(str, Enum):
    PERSONALIZED = "personalized"
    HISTORY = "history"
    POPULAR = "popular"


class RankedBy(str, Enum):
    RANKER = "ranker"
    RETRIEVAL = "retrieval"


class UnknownItemError(LookupError):
    """The item id is not in the serving model's catalog."""


class ObjectiveError(ValueError):
    """A query's objective weights do not fit the serving model's ranker; ``position`` is the
    query's place in the call."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class UserQuery:
    user_id: str
    k: int = 10
    exclude_seen: bool = True
    exclude: Sequence[str] = ()
    history: Sequence[str] | None = None
    objectives: Mapping[str, float] | None = None  # None: the bundle's default weights


@dataclass(frozen=True)
class Recommendation:
    user_id: str
    source: Source
    item_ids: list[str]
    scores: list[float]
    unknown_history_items: list[str] = field(default_factory=list)
    ranked_by: RankedBy = RankedBy.RETRIEVAL
    weights: dict[str, float] | None = None  # the blend the ranker's order used
    probabilities: list[dict[str, float]] | None = None  # per item, each objective's


@dataclass
class _Plan:
    """What one query needs: a vector to search with (or none: popular), rows to leave out."""

    source: Source
    excluded: set[int]
    vector: np.ndarray | None = None
    unknown_history_items: list[str] = field(default_factory=list)
    ranker_user: int = 0  # the user's input to the ranker: bundle row + 1, 0 when unknown


def _rows_of(ids: Sequence[str], rows: dict[str, int]) -> tuple[list[int], list[str]]:
    known = [rows[i] for i in ids if i in rows]
    unknown = [i for i in ids if i not in rows] if len(known) < len(ids) else []
    return known, unknown


def _plan(model: LoadedModel, query: UserQuery) -> _Plan:
    # Plain Python sets and lists: requests are small, and numpy's per-call overhead is not.
    bundle = model.bundle
    excluded = {bundle.item_rows[i] for i in query.exclude if i in bundle.item_rows}
    history_rows, unknown_history = (
        _rows_of(query.history, bundle.item_rows) if query.history else ([], [])
    )
    if query.exclude_seen:
        excluded.update(history_rows)

    user_row = bundle.user_rows.get(query.user_id)
    if user_row is not None:
        if query.exclude_seen:
            excluded.update(bundle.seen_rows(user_row).tolist())
        return _Plan(
            Source.PERSONALIZED,
            excluded,
            bundle.user_embeddings[user_row],
            unknown_history,
            ranker_user=user_row + 1,
        )
    if history_rows:
        vector = model.encoder.encode(np.asarray(history_rows, dtype=np.int64))
        return _Plan(Source.HISTORY, excluded, vector, unknown_history)
    return _Plan(Source.POPULAR, excluded, None, unknown_history)


def _popular(model: LoadedModel, k: int, excluded: set[int]) -> tuple[list[int], list[float]]:
    # Only the first k + |excluded| popular items can survive the exclusion.
    candidates = model.popular_rows[: k + len(excluded)].tolist()
    rows = [row for row in candidates if row not in excluded][:k]
    return rows, model.bundle.item_popularity[rows].tolist()


def objective_weights(
    ranker: OnnxRanker, objectives: Mapping[str, float] | None
) -> dict[str, float]:
    """The blend of one query: its weights over the ranker's objectives (the ones it does not
    name weigh 0), or the bundle's default weights when it names none. ``ValueError`` names
    the valid objectives when a name is unknown (without quoting the client's names)."""
    if objectives is None:
        return ranker.default_weights
    unknown = len(set(objectives) - set(ranker.objectives))
    if unknown:
        raise ValueError(
            f"{unknown} unknown objective name{'s' if unknown > 1 else ''}; this model's "
            f"objectives are: {', '.join(ranker.objectives)}"
        )
    weights = {name: float(objectives.get(name, 0.0)) for name in ranker.objectives}
    check_objective_weights(weights, ranker.objectives)
    return weights


def recommend(model: LoadedModel, queries: Sequence[UserQuery]) -> list[Recommendation]:
    """Top-k items for every query, answered by ``model``."""
    ranker = model.ranker
    blends: list[dict[str, float]] = []
    if ranker is not None:  # refuse bad weights before any work is done
        for position, query in enumerate(queries):
            try:
                blends.append(objective_weights(ranker, query.objectives))
            except ValueError as error:
                raise ObjectiveError(position, str(error)) from None
    plans = [_plan(model, query) for query in queries]
    # Retrieval: k items per query, or the ranker's candidates.
    fetch = [q.k if ranker is None else max(q.k, model.ranker_candidates) for q in queries]
    searched = [i for i, plan in enumerate(plans) if plan.vector is not None]
    found: dict[int, tuple[list[int], list[float]]] = {}
    if searched:
        result = model.index.search(
            np.stack([plans[i].vector for i in searched])
            if len(searched) > 1
            else plans[searched[0]].vector,
            [fetch[i] for i in searched],
            [plans[i].excluded for i in searched],
        )
        found = {i: (rows, scores) for i, rows, scores in zip(searched, result.rows, result.scores)}
    retrieved = [
        found[i] if i in found else _popular(model, fetch[i], plan.excluded)
        for i, plan in enumerate(plans)
    ]

    if ranker is None:
        ranked_by = RankedBy.RETRIEVAL
        answers = [(rows, scores, None) for rows, scores in retrieved]
        weights_of: Sequence[dict[str, float] | None] = [None] * len(queries)
    else:
        ranked_by = RankedBy.RANKER
        answers = _rank(ranker, queries, plans, [rows for rows, _ in retrieved], blends)
        weights_of = blends
    item_ids = model.bundle.item_ids
    return [
        Recommendation(
            user_id=query.user_id,
            source=plan.source,
            item_ids=[item_ids[row] for row in rows],
            scores=scores,
            unknown_history_items=plan.unknown_history_items,
            ranked_by=ranked_by,
            weights=weights,
            probabilities=probabilities,
        )
        for query, plan, weights, (rows, scores, probabilities) in zip(
            queries, plans, weights_of, answers
        )
    ]


def _rank(
    ranker: OnnxRanker,
    queries: Sequence[UserQuery],
    plans: Sequence[_Plan],
    candidates: Sequence[list[int]],
    blends: Sequence[dict[str, float]],
) -> list[tuple[list[int], list[float], list[dict[str, float]] | None]]:
    """Per query: its top k candidates by blended probability (ties keep the retrieval
    order), their blended scores and each objective's probability."""
    sizes = [len(rows) for rows in candidates]
    total = sum(sizes)
    # One run of the ranker over every candidate of the call (item and user rows + 1).
    items = np.fromiter(chain.from_iterable(candidates), dtype=np.int64, count=total) + 1
    users = np.repeat(np.array([plan.ranker_user for plan in plans], dtype=np.int64), sizes)
    probabilities = ranker.probabilities(users, items).astype(np.float64)
    objectives = ranker.objectives
    # Every candidate's blended score at once: its query's weights, repeated per candidate.
    weights = np.repeat(_mean_weights(blends, objectives), sizes, axis=0)
    blended = np.einsum("ct,ct->c", probabilities, weights)
    width = sizes[0]
    if width and sizes.count(width) == len(sizes):  # usual: one sort for every query
        orders = np.argsort(-blended.reshape(-1, width), axis=1, kind="stable")
        orders += np.arange(0, total, width)[:, None]  # positions in the whole call
        tops = [order[: query.k] for order, query in zip(orders, queries)]
    else:
        starts = np.cumsum([0, *sizes[:-1]]).tolist()
        tops = [
            start + np.argsort(-blended[start : start + size], kind="stable")[: query.k]
            for start, size, query in zip(starts, sizes, queries)
        ]
    flat_rows = list(chain.from_iterable(candidates))
    answers = []
    for top in tops:
        picked = top.tolist()
        answers.append(
            (
                [flat_rows[i] for i in picked],
                blended[top].tolist(),
                [dict(zip(objectives, values)) for values in probabilities[top].tolist()],
            )
        )
    return answers


def _mean_weights(blends: Sequence[dict[str, float]], objectives: list[str]) -> np.ndarray:
    """[queries, objectives]: each query's weights scaled to sum to 1 (so the blended score
    is the weighted mean of the objectives' probabilities, in [0, 1]); scaled by the largest
    first, so that no finite weights overflow."""
    matrix = np.array([[blend[name] for name in objectives] for blend in blends], dtype=np.float64)
    matrix /= matrix.max(axis=1, keepdims=True)
    return matrix / matrix.sum(axis=1, keepdims=True)


def similar_items(model: LoadedModel, item_id: str, k: int) -> tuple[list[str], list[float]]:
    """The k items whose vectors score highest against ``item_id``'s vector (itself excluded)."""
    row = model.bundle.item_rows.get(item_id)
    if row is None:
        raise UnknownItemError(f"item {item_id!r} is not in model {model.version}")
    result = model.index.search(model.bundle.item_embeddings[row], k, [{row}])
    item_ids = model.bundle.item_ids
    return [item_ids[r] for r in result.rows[0]], result.scores[0]
