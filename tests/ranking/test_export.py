"""ONNX export of every ranker into a checksummed ranking bundle."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from shared.bundle import BundleError
from trainer.ranking.export import RANKER_ONNX, export_ranking_bundle, verify_ranking_bundle
from trainer.ranking.models import RANKERS, RankerConfig, build_ranker

SMALL = RankerConfig(dim=4, expert_dims=(16,), tower_dims=(8,), bottom_dims=(16,), num_experts=3)


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_onnxruntime_equals_torch_with_one_probability_per_task(name, tiny_ranking_users, tmp_path):
    import torch

    dataset = tiny_ranking_users
    model = build_ranker(name, dataset.schema, SMALL)
    with torch.no_grad():  # move off the initial weights, the gate included
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.1)
    path = export_ranking_bundle(model, dataset, tmp_path / "b", {"test": {}}, {"model": name})
    manifest = verify_ranking_bundle(path)
    assert manifest["outputs"] == {"click": "p_click", "buy": "p_buy"}
    session = onnxruntime.InferenceSession(str(path / RANKER_ONNX))
    samples = dataset.test
    outputs = session.run(None, {"categorical": samples.categorical, "numeric": samples.numeric})
    assert [o.name for o in session.get_outputs()] == ["p_click", "p_buy"]
    expected = model.predict(
        torch.from_numpy(samples.categorical), torch.from_numpy(samples.numeric)
    )
    for t, output in enumerate(outputs):
        assert output.shape == (len(samples),)
        np.testing.assert_allclose(output, expected[:, t].numpy(), atol=1e-5, rtol=0)


def test_bundle_is_refused_when_a_file_is_corrupted_or_exists(tiny_ranking, tmp_path):
    model = build_ranker("mmoe", tiny_ranking.schema, SMALL)
    path = export_ranking_bundle(model, tiny_ranking, tmp_path / "b", {}, {})
    with pytest.raises(BundleError, match="already exists"):
        export_ranking_bundle(model, tiny_ranking, tmp_path / "b", {}, {})
    (path / RANKER_ONNX).write_bytes(b"not a model")
    with pytest.raises(BundleError, match="corrupted"):
        verify_ranking_bundle(path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
