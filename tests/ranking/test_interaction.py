"""The features' bi-interaction pooling as one more ranker input (RankerConfig.interaction)."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
import torch

from tests.ranking.conftest import batch
from trainer.ranking.export import RANKER_ONNX, export_ranking_bundle
from trainer.ranking.models import RANKERS, RankerConfig, build_ranker

SMALL = dict(dim=4, expert_dims=(8,), tower_dims=(4,), bottom_dims=(8,), num_experts=3)


def test_pooling_is_the_sum_of_pairwise_products_appended_after_the_features(tiny_ranking):
    model = build_ranker("mmoe", tiny_ranking.schema, RankerConfig(**SMALL, interaction=True))
    categorical, numeric, _ = batch(tiny_ranking, rows=8)
    embedded = model.embedding(categorical, numeric)
    features = tiny_ranking.schema.num_features
    assert embedded.shape == (8, features + 1, 4)
    vectors = embedded[:, :features]
    pairs = sum(
        vectors[:, a] * vectors[:, b] for a in range(features) for b in range(a + 1, features)
    )
    torch.testing.assert_close(embedded[:, features], pairs, atol=1e-12, rtol=1e-5)
    # Off (the default): the features alone, and a narrower first layer.
    plain = build_ranker("mmoe", tiny_ranking.schema, RankerConfig(**SMALL))
    assert plain.embedding(categorical, numeric).shape == (8, features, 4)
    assert model.input_width == plain.input_width + 4


def test_stem_fused_lookup_pools_every_chunk(tiny_ranking):
    """STEM-Net's fused lookup gives the logits and gradients of pooling whole rows."""
    torch.manual_seed(3)
    config = RankerConfig(**SMALL, shared_experts=2, interaction=True)
    model = build_ranker("stem", tiny_ranking.schema, config)
    categorical, numeric, _ = batch(tiny_ranking)
    whole = model.head(model.embedding(categorical, numeric), categorical)
    expected = torch.autograd.grad(whole.sum(), [model.embedding.table])[0]
    fused = model(categorical, numeric)
    torch.testing.assert_close(fused, whole, atol=1e-6, rtol=1e-5)
    got = torch.autograd.grad(fused.sum(), [model.embedding.table])[0]
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_architecture_trains_and_exports_with_the_pooling(name, tiny_ranking_users, tmp_path):
    dataset = tiny_ranking_users
    torch.manual_seed(0)
    model = build_ranker(name, dataset.schema, RankerConfig(**SMALL, interaction=True))
    categorical, numeric, labels = batch(dataset)
    model.backward(categorical, numeric, labels, 1)
    grad = model.embedding.table.grad
    assert grad is not None and grad.abs().sum() > 0
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.1)
    path = export_ranking_bundle(model, dataset, tmp_path / "b", {"test": {}}, {"model": name})
    session = onnxruntime.InferenceSession(str(path / RANKER_ONNX))
    samples = dataset.test
    outputs = session.run(None, {"categorical": samples.categorical, "numeric": samples.numeric})
    expected = model.predict(
        torch.from_numpy(samples.categorical), torch.from_numpy(samples.numeric)
    )
    for t, output in enumerate(outputs):
        np.testing.assert_allclose(output, expected[:, t].numpy(), atol=1e-5, rtol=0)
