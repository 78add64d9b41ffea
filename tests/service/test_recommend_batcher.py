"""Single /recommend requests are answered by the batcher's thread: concurrent queries share
one ``recommend`` call per model version, each gets the answer it would get alone, one bad
query fails alone, and the body sent is the response schema's."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from fastapi.encoders import jsonable_encoder

from service.recommendation import ObjectiveError, UserQuery, recommend
from service.recommendation import batcher as batcher_module
from service.recommendation.batcher import RecommendBatcher
from service.registry.loaded_model import LoadedModel
from service.schemas.recommend import RecommendResponse, recommendation_json
from tests.service.conftest import make_settings


@pytest.fixture
def models(sqlite_url, bundle_root, bundle_v1, bundle_v2, ranked_bundle):
    settings = make_settings(sqlite_url, bundle_root)
    return {
        name: LoadedModel.load(path, settings)
        for name, path in (("v1", bundle_v1), ("v2", bundle_v2), ("ranked", ranked_bundle))
    }


def _held_batcher(monkeypatch, max_batch: int):
    """A batcher whose first ``recommend`` call waits until ``release`` is set (so the
    queries sent meanwhile queue up), and the sizes of the calls it made."""
    batcher = RecommendBatcher(max_batch=max_batch)
    started, release, calls = threading.Event(), threading.Event(), []

    def held(model, queries):
        calls.append(len(queries))
        if len(calls) == 1:
            started.set()
            release.wait(timeout=30)
        return recommend(model, queries)

    monkeypatch.setattr(batcher_module, "recommend", held)
    return batcher, (started, release), calls


async def _answer_all(batcher, gate, pairs):
    """Every (model, query)'s answer or error: the first is sent alone and held in its call
    while the others queue up behind it."""
    started, release = gate
    (first_model, first_query), *rest = pairs
    tasks = [asyncio.ensure_future(batcher.answer(first_model, first_query))]
    while not started.is_set():
        await asyncio.sleep(0.001)
    tasks += [asyncio.ensure_future(batcher.answer(model, query)) for model, query in rest]
    while batcher._queue.qsize() < len(rest):
        await asyncio.sleep(0.001)
    release.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def test_queued_queries_are_answered_together_each_as_alone(models, monkeypatch):
    batcher, gate, calls = _held_batcher(monkeypatch, max_batch=8)
    ranked = models["ranked"]
    queries = [
        UserQuery(user_id=f"u{i}", k=5 + i % 3, objectives={"buy": 1.0, "cart": i / 10})
        for i in range(20)
    ]
    try:
        answers = asyncio.run(_answer_all(batcher, gate, [(ranked, q) for q in queries]))
    finally:
        batcher.close()
    assert calls == [1, 8, 8, 3]
    for query, answer in zip(queries, answers):
        (alone,) = recommend(ranked, [query])
        assert answer.item_ids == alone.item_ids
        assert answer.scores == pytest.approx(alone.scores, rel=1e-12)
        assert answer.weights == alone.weights and answer.ranked_by.value == "ranker"


def test_one_bad_query_fails_alone_and_each_model_answers_its_own(models, monkeypatch):
    batcher, gate, calls = _held_batcher(monkeypatch, max_batch=64)
    good = UserQuery(user_id="u1", k=4, objectives={"cart": 1.0})
    bad = UserQuery(user_id="u2", k=4, objectives={"click": 1.0})
    plain = UserQuery(user_id="u1", k=4)
    pairs = [
        (models["ranked"], good),
        (models["ranked"], bad),
        (models["v2"], plain),
        (models["ranked"], good),
        (models["v1"], plain),
    ]
    try:
        answers = asyncio.run(_answer_all(batcher, gate, pairs))
    finally:
        batcher.close()
    assert isinstance(answers[1], ObjectiveError)
    assert "objectives are: buy, cart" in str(answers[1])
    for position in (0, 3):
        assert answers[position].item_ids == recommend(models["ranked"], [good])[0].item_ids
    assert answers[2].item_ids == recommend(models["v2"], [plain])[0].item_ids
    assert answers[4].item_ids == recommend(models["v1"], [plain])[0].item_ids
    assert answers[2].item_ids != answers[4].item_ids  # two versions, two answers
    # The held first call; then one call per version: v2 and v1 one query each, and the
    # ranked group of two fails on the bad query, so its two are answered one at a time.
    assert sorted(calls) == [1, 1, 1, 1, 1, 2]


def test_the_body_sent_is_the_response_schema_rendered(models):
    for model, query in (
        (models["ranked"], UserQuery(user_id="u3", k=6, objectives={"buy": 2.0, "cart": 1.0})),
        (models["v1"], UserQuery(user_id="stranger", k=3, history=["i1", "nope"])),
        (models["v1"], UserQuery(user_id="stranger", k=3)),
    ):
        (answer,) = recommend(model, [query])
        expected = jsonable_encoder(RecommendResponse.from_answer(model.version, answer))
        assert json.loads(recommendation_json(model.version, answer)) == expected
