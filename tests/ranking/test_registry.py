"""One suite over every registered ranker: shapes, gradients, training, a clear unknown name."""

from __future__ import annotations

import pytest
import torch

from tests.ranking.conftest import batch
from trainer.ranking.models import RANKERS, RankerConfig, build_ranker
from trainer.ranking.training import RankTrainConfig, RankTrainer

SMALL = RankerConfig(dim=4, expert_dims=(16,), tower_dims=(8,), bottom_dims=(16,), num_experts=3)


def test_every_architecture_of_the_issue_is_registered():
    assert {"shared_bottom", "mmoe", "ple", "stem", "split_mmoe", "drgrad"} <= set(RANKERS)


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_logits_per_task_and_every_parameter_trained(name, tiny_ranking_users):
    model = build_ranker(name, tiny_ranking_users.schema, SMALL)
    categorical, numeric, labels = batch(tiny_ranking_users)
    logits = model(categorical, numeric)
    assert logits.shape == (64, 2)
    assert torch.isfinite(logits).all()
    losses = model.backward(categorical, numeric, labels, epoch=1)
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
    # A second step: layers behind a zero-initialised one (DRGrad's personalized gate) get
    # their first gradient once that layer has moved.
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    model.zero_grad()
    model.backward(categorical, numeric, labels, epoch=1)
    untouched = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert untouched == []


@pytest.mark.parametrize("name", sorted(RANKERS))
def test_training_lowers_the_training_loss(name, tiny_ranking):
    config = RankTrainConfig(model=name, lr=0.01, epochs=6, patience=6, batch_size=64, ranker=SMALL)
    result = RankTrainer(tiny_ranking, config, progress=False).fit()
    first, last = result.history[0], result.history[-1]
    assert last["click:train_loss"] < first["click:train_loss"]


def test_ple_takes_two_levels_and_refuses_three(tiny_ranking):
    two = build_ranker("ple", tiny_ranking.schema, RankerConfig(levels=2))
    assert len(two.levels) == 2 and two.levels[0].shared_gate is not None
    with pytest.raises(ValueError, match="levels 1 or 2"):
        build_ranker("ple", tiny_ranking.schema, RankerConfig(levels=3))


def test_unknown_model_and_option_name_the_valid_ones(tiny_ranking):
    with pytest.raises(ValueError, match=r"valid names: .*mmoe"):
        build_ranker("mmoee", tiny_ranking.schema)
    with pytest.raises(ValueError, match=r"valid names: .*num_experts"):
        RankerConfig.from_dict({"experts": 3})
