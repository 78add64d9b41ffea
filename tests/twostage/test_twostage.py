"""Two-stage evaluation and the two-stage bundle (trainer/twostage.py)."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
import torch

from shared.bundle import load_bundle
from trainer.evaluation import RankingEvaluator
from trainer.twostage import (
    RankerStage,
    fit_ranker_stage,
    rerank,
    target_probabilities,
    train_ranker,
    two_stage_metrics,
)


@pytest.fixture()
def vectors(buy_dataset):
    generator = torch.Generator().manual_seed(0)
    users = torch.randn(buy_dataset.num_users, 8, generator=generator)
    items = torch.randn(buy_dataset.num_items, 8, generator=generator)
    return users, items


@pytest.fixture()
def two_stage_bundle(buy_dataset, cart_pairs, vectors, tmp_path, monkeypatch):
    """A function: the two-stage bundle of ``stage`` over the tiny buy/cart data and the
    random retrieval vectors (its path)."""
    import trainer.twostage as twostage
    from trainer.export import export_vectors

    monkeypatch.setattr(
        twostage,
        "multi_behavior",
        lambda dataset: twostage.behavior_pairs(dataset, "buy", {"cart": cart_pairs}),
    )
    users, items = vectors

    def build(stage: RankerStage):
        spec = fit_ranker_stage(buy_dataset, users, items, stage)
        return export_vectors(
            users.numpy(),
            items.numpy(),
            buy_dataset,
            tmp_path / "bundle",
            {"test": {}},
            method="bpr",
            hyperparameters={},
            extra={},
            ranker=spec,
        )

    return build


@pytest.fixture()
def trained(behaviors):
    # Ids only: the mechanics of re-ranking (the history features have their own tests).
    return train_ranker(behaviors, RankerStage(model="mmoe", epochs=2, seed=0, history=False))


def test_top_items_exclude_training_positives_and_follow_the_scores(buy_dataset, vectors):
    users, items = vectors
    evaluator = RankingEvaluator(
        buy_dataset.positives("test"), *buy_dataset.positive_csr(), buy_dataset.num_items
    )
    top = evaluator.top_items(users, items, 12).numpy()
    indptr, indices = buy_dataset.positive_csr()
    for row, user in enumerate(evaluator.users.tolist()):
        seen = set(indices[indptr[user] : indptr[user + 1]].tolist())
        assert not seen & set(top[row].tolist())
        scores = (users[user] @ items.T).numpy()
        assert np.all(np.diff(scores[top[row]]) <= 0)
        allowed = sorted(set(range(buy_dataset.num_items)) - seen, key=lambda i: -scores[i])
        assert top[row].tolist() == allowed[:12]


def test_rerank_orders_candidates_by_the_target_probability(trained):
    result, _ = trained
    users = np.array([0, 5, 7])
    candidates = np.array([[1, 2, 3, 4], [9, 8, 7, 6], [0, 10, 20, 29]])
    ranked = rerank(result.model, users, candidates)
    for row in range(3):
        assert sorted(ranked[row].tolist()) == sorted(candidates[row].tolist())
        p = target_probabilities(result.model, np.full(4, users[row]), ranked[row])
        assert np.all(np.diff(p) <= 0)
        assert not np.array_equal(p, p[::-1])  # the ranker does tell the candidates apart


def test_two_stage_metrics_match_retrieval_alone_and_the_reranked_lists(
    buy_dataset, vectors, trained
):
    users, items = vectors
    model = trained[0].model
    metrics = two_stage_metrics(buy_dataset, "test", users, items, {"mmoe": model}, ns=(10, 20))
    full = RankingEvaluator(
        buy_dataset.positives("test"), *buy_dataset.positive_csr(), buy_dataset.num_items, ks=(10,)
    ).evaluate(users, items)
    assert metrics["retrieval:hit@10"] == pytest.approx(full["hit@10"])
    assert metrics["retrieval:ndcg@10"] == pytest.approx(full["ndcg@10"])
    # Re-ranking the top 10 keeps the same 10 items: the same hit rate, another order.
    assert metrics["mmoe@10:hit@10"] == pytest.approx(full["hit@10"])
    # Top 20 re-ranked by hand.
    evaluator = RankingEvaluator(
        buy_dataset.positives("test"), *buy_dataset.positive_csr(), buy_dataset.num_items
    )
    candidates = evaluator.top_items(users, items, 20).numpy()
    ranked = rerank(model, evaluator.users.numpy(), candidates)[:, :10]
    test = buy_dataset.positives("test")
    held = {(u, i) for u, i in zip(test.users.tolist(), test.items.tolist())}
    hits = [
        any((u, i) in held for i in row)
        for u, row in zip(evaluator.users.tolist(), ranked.tolist())
    ]
    assert metrics["mmoe@20:hit@10"] == pytest.approx(np.mean(hits))


@pytest.mark.parametrize("model", ["mmoe", "stem", "drgrad"])
def test_two_stage_bundle_ranker_equals_torch_in_onnxruntime(model, buy_dataset, two_stage_bundle):
    import trainer.twostage as twostage

    stage = RankerStage(model=model, epochs=2, history=False)
    bundle = load_bundle(two_stage_bundle(stage))
    ranker = bundle.ranker
    assert bundle.manifest["format_version"] == 2
    assert ranker["objectives"] == ["buy", "cart"] and ranker["target"] == "buy"
    assert ranker["default_weights"] == {"buy": 1.0, "cart": 0.0}
    assert ranker["model"] == model
    assert {"ranker:buy:auc", "ranker:cart:gauc", f"{model}@100:ndcg@10"} <= set(
        ranker["metrics"]["val"]
    )
    # Every (user, item) of the bundle, as (user row + 1, item row + 1).
    user_rows, item_rows = np.meshgrid(
        np.arange(bundle.num_users), np.arange(bundle.num_items), indexing="ij"
    )
    categorical = np.stack([user_rows.ravel() + 1, item_rows.ravel() + 1], axis=1)
    session = onnxruntime.InferenceSession(str(bundle.ranker_path))
    feeds = {"categorical": categorical.astype(np.int64)}
    if "numeric" in {i.name for i in session.get_inputs()}:
        feeds["numeric"] = np.zeros((len(categorical), 0), np.float32)
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    assert set(outputs) == {"p_buy", "p_cart"}
    # The same ranker in torch: the bundle's bytes came from a model trained with the seed.
    torch_model, _ = train_ranker(twostage.multi_behavior(buy_dataset), stage)
    expected = torch_model.model.predict(
        torch.from_numpy(categorical), torch.zeros(len(categorical), 0)
    ).numpy()
    np.testing.assert_allclose(outputs["p_buy"], expected[:, 0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(outputs["p_cart"], expected[:, 1], atol=1e-5, rtol=0)
    assert outputs["p_buy"].std() > 0


def test_a_ranker_with_history_features_reranks_with_them(behaviors):
    from trainer.ranking.pairs import BehaviorHistory

    result, _ = train_ranker(behaviors, RankerStage(model="mmoe", epochs=2, seed=0, history=True))
    history = BehaviorHistory.of(behaviors)
    users, items = behaviors.train["cart"][:20, 0], behaviors.train["cart"][:20, 1]
    with_history = target_probabilities(result.model, users, items, history=history)
    categorical = torch.from_numpy(np.stack([users + 1, items + 1], axis=1))
    expected = result.model.predict(categorical, torch.ones(20, 1))[:, 0].numpy()
    np.testing.assert_allclose(with_history, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="history"):
        target_probabilities(result.model, users, items)
    ranked = rerank(result.model, users[:1], items[None, :10], history)
    assert sorted(ranked[0].tolist()) == sorted(items[:10].tolist())
    # The record key leaves out the settings every run had before they existed, so earlier
    # records keep their keys; today's defaults (history, unlabelled) enter it.
    legacy = RankerStage(history=False, other_behaviors="negative").to_dict()
    assert "history" not in legacy and "other_behaviors" not in legacy
    assert RankerStage().to_dict()["history"] is True
    assert RankerStage().to_dict()["other_behaviors"] == "unlabelled"


def test_a_bundle_carries_the_history_the_ranker_reads(buy_dataset, cart_pairs, two_stage_bundle):
    import json

    import trainer.twostage as twostage
    from shared.bundle import RANKER_HISTORY, BundleError, load_ranker_history

    stage = RankerStage(model="mmoe", epochs=2, history=True, other_behaviors="unlabelled")
    path = two_stage_bundle(stage)
    bundle = load_bundle(path)
    assert bundle.ranker["inputs"]["numeric"] == ["history:cart"]
    history = load_ranker_history(bundle)
    indptr, indices = history["cart"]
    carted = {
        (u, int(i)) for u in range(bundle.num_users) for i in indices[indptr[u] : indptr[u + 1]]
    }
    assert carted == set(map(tuple, cart_pairs.tolist()))
    # onnxruntime over (user, item, carted?) equals the torch ranker with the same features.
    session = onnxruntime.InferenceSession(str(bundle.ranker_path))
    rows = np.array([*sorted(carted)[:5], (0, 0), (1, 1), (2, 2)], dtype=np.int64)
    flags = np.array([[float(tuple(r) in carted)] for r in rows.tolist()], np.float32)
    got = session.run(["p_buy"], {"categorical": rows + 1, "numeric": flags})[0]
    trained, _ = train_ranker(twostage.multi_behavior(buy_dataset), stage)
    expected = trained.model.predict(torch.from_numpy(rows + 1), torch.from_numpy(flags))[:, 0]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)
    # A tampered history file is refused.
    (path / RANKER_HISTORY).write_bytes(b"not an npz")
    with pytest.raises(BundleError, match="corrupted"):
        load_bundle(path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["ranker"]["inputs"]["numeric"] = []
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="numeric inputs"):
        load_bundle(path, verify=False)
