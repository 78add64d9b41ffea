"""Ranking for known users, cold-start users with a history, and everyone else.

- ``personalized``: the user's trained vector against the item index.
- ``history``: an unknown user's vector from the bundle's ONNX encoder over the given items.
- ``popular``: an unknown user without usable history gets the most popular items
  (score = number of training interactions).

Seen items (the user's training items, plus the given history) are left out when
``exclude_seen``; the request's ``exclude`` ids always are. All queries of a call are
searched in one FAISS call and answered from one model version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from service.registry.loaded_model import LoadedModel


class Source(str, Enum):
    PERSONALIZED = "personalized"
    HISTORY = "history"
    POPULAR = "popular"


class UnknownItemError(LookupError):
    """The item id is not in the serving model's catalog."""


@dataclass(frozen=True)
class UserQuery:
    user_id: str
    k: int = 10
    exclude_seen: bool = True
    exclude: Sequence[str] = ()
    history: Sequence[str] | None = None


@dataclass(frozen=True)
class Recommendation:
    user_id: str
    source: Source
    item_ids: list[str]
    scores: list[float]
    unknown_history_items: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """What one query needs: a vector to search with (or none: popular), rows to leave out."""

    source: Source
    excluded: set[int]
    vector: np.ndarray | None = None
    unknown_history_items: list[str] = field(default_factory=list)


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
            Source.PERSONALIZED, excluded, bundle.user_embeddings[user_row], unknown_history
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


def recommend(model: LoadedModel, queries: Sequence[UserQuery]) -> list[Recommendation]:
    """Top-k items for every query, answered by ``model``."""
    plans = [_plan(model, query) for query in queries]
    searched = [i for i, plan in enumerate(plans) if plan.vector is not None]
    found: dict[int, tuple[list[int], list[float]]] = {}
    if searched:
        result = model.index.search(
            np.stack([plans[i].vector for i in searched])
            if len(searched) > 1
            else plans[searched[0]].vector,
            [queries[i].k for i in searched],
            [plans[i].excluded for i in searched],
        )
        found = {i: (rows, scores) for i, rows, scores in zip(searched, result.rows, result.scores)}

    item_ids = model.bundle.item_ids
    answers = []
    for i, (query, plan) in enumerate(zip(queries, plans)):
        rows, scores = found[i] if i in found else _popular(model, query.k, plan.excluded)
        answers.append(
            Recommendation(
                user_id=query.user_id,
                source=plan.source,
                item_ids=[item_ids[row] for row in rows],
                scores=scores,
                unknown_history_items=plan.unknown_history_items,
            )
        )
    return answers


def similar_items(model: LoadedModel, item_id: str, k: int) -> tuple[list[str], list[float]]:
    """The k items whose vectors score highest against ``item_id``'s vector (itself excluded)."""
    row = model.bundle.item_rows.get(item_id)
    if row is None:
        raise UnknownItemError(f"item {item_id!r} is not in model {model.version}")
    result = model.index.search(model.bundle.item_embeddings[row], k, [{row}])
    item_ids = model.bundle.item_ids
    return [item_ids[r] for r in result.rows[0]], result.scores[0]
