"""The combiner seam on a ranker's shared parameters."""

from __future__ import annotations

import pytest
import torch

from tests.ranking.conftest import batch
from trainer.combiners import build_combiner
from trainer.ranking.combined import combined_backward
from trainer.ranking.models import RankerConfig, build_ranker
from trainer.ranking.training import RankTrainConfig, RankTrainer

SMALL = RankerConfig(dim=4, expert_dims=(16,), tower_dims=(8,), num_experts=3)


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def _pair(dataset):
    torch.manual_seed(1)
    a = build_ranker("mmoe", dataset.schema, SMALL)
    torch.manual_seed(1)
    b = build_ranker("mmoe", dataset.schema, SMALL)
    return a, b


@pytest.mark.parametrize("combiner", ["ew", "gradient_sum"])
def test_summing_combiners_match_the_plain_backward(combiner, tiny_ranking):
    """EW (a loss weighting) and a gradient-level sum both equal the ordinary summed loss."""
    plain, seam = _pair(tiny_ranking)
    data = batch(tiny_ranking)
    plain.backward(*data, epoch=1)
    if combiner == "ew":
        chosen = build_combiner("ew")
    else:

        class Sum(type(build_combiner("pmtrec"))):
            def combine(self, task_gradients, epoch):
                return task_gradients.sum(dim=0)

        chosen = Sum()
    combined_backward(seam, chosen, *data, epoch=1)
    expected, actual = _grads(plain), _grads(seam)
    for name in expected:
        assert torch.allclose(expected[name], actual[name], atol=1e-7), name


def test_pmtrec_weighs_each_embedding_row_by_the_tasks_gradient_norms(tiny_ranking):
    plain, seam = _pair(tiny_ranking)
    categorical, numeric, labels = batch(tiny_ranking)
    combiner = build_combiner("pmtrec", alpha=1.0, tau=1e-4)
    combined_backward(seam, combiner, categorical, numeric, labels, epoch=1)
    # The same row's per-task gradients by hand.
    row = int(plain.embedding.rows(categorical)[0, 0])
    losses = plain.task_losses(plain(categorical, numeric), labels)
    per_task = torch.stack(
        [
            torch.autograd.grad(loss, plain.embedding.table, retain_graph=True)[0][row]
            for loss in losses
        ]
    )
    weights = torch.softmax(per_task.norm(dim=1) / 1e-4, dim=0)
    expected = (weights[:, None] * per_task).sum(0)
    expected += 2 * SMALL.embedding_l2 * plain.embedding.table[row].detach()
    assert torch.allclose(seam.embedding.table.grad[row], expected, atol=1e-8)
    # Not the plain sum: the rows are combined, not added.
    assert not torch.allclose(seam.embedding.table.grad[row], per_task.sum(0), atol=1e-8)
    # Rows the batch does not touch get no gradient but the L2 term.
    untouched = torch.ones(len(seam.embedding.table), dtype=torch.bool)
    untouched[plain.embedding.rows(categorical).unique()] = False
    l2 = 2 * SMALL.embedding_l2 * seam.embedding.table[untouched].detach()
    assert torch.allclose(seam.embedding.table.grad[untouched], l2)


def test_mmoe_trains_through_pmtrec_and_drgrad_refuses_a_combiner(tiny_ranking):
    config = RankTrainConfig(
        model="mmoe", lr=0.01, epochs=4, patience=4, batch_size=64, combiner="pmtrec",
        combiner_options={"alpha": 1.04, "tau": 1e-4}, ranker=SMALL,
    )  # fmt: skip
    result = RankTrainer(tiny_ranking, config, progress=False).fit()
    assert result.history[-1]["click:train_loss"] < result.history[0]["click:train_loss"]
    with pytest.raises(ValueError, match="routes its own gradients"):
        RankTrainer(tiny_ranking, RankTrainConfig(model="drgrad", combiner="pcgrad"))
    with pytest.raises(ValueError, match="valid names"):
        RankTrainConfig(combiner="pmtrecc")
