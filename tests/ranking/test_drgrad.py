"""DRGrad's reconstruction: the router on hand-built gradients, the ablation switches, the
updater and the personalized gate."""

from __future__ import annotations

import pytest
import torch

from tests.ranking.conftest import batch
from trainer.ranking.models import RankerConfig, build_ranker
from trainer.ranking.models.drgrad import ABLATIONS, route, route_batch, route_rank_one

SMALL = dict(dim=4, expert_dims=(16,), tower_dims=(8,), num_experts=3)


def test_router_routes_a_cooperative_gradient_and_drops_a_conflicting_one():
    primary = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # Sample 0: the auxiliary gradient agrees (cos 0.8); sample 1: it conflicts (cos -0.6).
    auxiliary = torch.tensor([[[0.8, 0.6], [-0.6, 0.8]]])
    inputs = torch.tensor([[[2.0, 3.0], [5.0, 7.0]]])
    routed, coefficients = route(primary, auxiliary, inputs, threshold=0.0, clip=1.0)
    assert coefficients[0, 0] == pytest.approx(0.8)
    assert coefficients[0, 1] == 0.0
    assert torch.allclose(routed[0], torch.tensor([1.6, 2.4]))
    assert torch.equal(routed[1], torch.zeros(2))


def test_router_clips_the_coefficient_and_respects_the_threshold():
    primary = torch.tensor([[1.0, 0.0]])
    auxiliary = torch.tensor([[[0.9, 0.1]], [[0.3, 0.95]]])  # cos 0.994 and 0.301
    inputs = torch.ones(2, 1, 3)
    routed, coefficients = route(primary, auxiliary, inputs, threshold=0.5, clip=0.25)
    assert coefficients[0, 0] == pytest.approx(0.25)  # clipped
    assert coefficients[1, 0] == 0.0  # below the threshold: not cooperative
    assert torch.allclose(routed, torch.full((1, 3), 0.25))


def _train(model, dataset, steps: int = 4):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    categorical, numeric, labels = batch(dataset)
    for _ in range(steps):
        optimizer.zero_grad()
        model.backward(categorical, numeric, labels, epoch=1)
        optimizer.step()
    return model(categorical, numeric)


def test_with_router_and_updater_off_drgrad_equals_split_mmoe_exactly(tiny_ranking_users):
    config = RankerConfig(**SMALL, **ABLATIONS["split"])
    torch.manual_seed(3)
    split = build_ranker("split_mmoe", tiny_ranking_users.schema, config)
    torch.manual_seed(3)
    drgrad = build_ranker("drgrad", tiny_ranking_users.schema, config)
    assert torch.equal(_train(split, tiny_ranking_users), _train(drgrad, tiny_ranking_users))
    for (name, a), (_, b) in zip(split.state_dict().items(), drgrad.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("granularity", ["batch", "sample"])
def test_the_router_changes_only_the_dedicated_side_of_the_first_step(tiny_ranking, granularity):
    """One step from the same weights: with the router, the shared experts and the auxiliary
    tower get the same gradients as without it; the dedicated expert gets more. (Weights
    drawn so that the batch router's one decision for this batch is to route.)"""
    seed = 6 if granularity == "batch" else 5
    grads = {}
    for router in (False, True):
        torch.manual_seed(seed)
        config = RankerConfig(
            **SMALL,
            router=router,
            updater=False,
            personal_gate=False,
            route_granularity=granularity,
        )
        model = build_ranker("drgrad", tiny_ranking.schema, config)
        model.backward(*batch(tiny_ranking), epoch=1)
        grads[router] = {n: p.grad.clone() for n, p in model.named_parameters()}
        cooperation = model.last_cooperation
    assert cooperation > 0  # some auxiliary gradients cooperate on this data
    for name in grads[False]:
        if name.startswith(("experts.", "towers.1", "gates.")):
            assert torch.allclose(grads[False][name], grads[True][name], atol=1e-7), name
    dedicated = [n for n in grads[False] if n.startswith("dedicated.")]
    assert dedicated
    assert any(not torch.allclose(grads[False][n], grads[True][n]) for n in dedicated)


def test_updater_moves_the_part_weights_from_one_half(tiny_ranking):
    model = build_ranker("drgrad", tiny_ranking.schema, RankerConfig(**SMALL))
    assert torch.equal(model.part_weights(), torch.tensor([0.5, 0.5]))
    _train(model, tiny_ranking, steps=3)
    assert not torch.equal(model.part_weights(), torch.tensor([0.5, 0.5]))
    assert model.part_weights().sum().item() == pytest.approx(1.0)
    frozen = build_ranker("drgrad", tiny_ranking.schema, RankerConfig(**SMALL, updater=False))
    _train(frozen, tiny_ranking, steps=3)
    assert torch.equal(frozen.part_weights(), torch.tensor([0.5, 0.5]))


def test_updater_without_router_is_refused(tiny_ranking):
    with pytest.raises(ValueError, match="router"):
        build_ranker("drgrad", tiny_ranking.schema, RankerConfig(router=False, updater=True))


def test_personalized_gate_starts_near_one_and_only_with_a_user_id(
    tiny_ranking_users, tiny_ranking
):
    model = build_ranker("drgrad", tiny_ranking_users.schema, RankerConfig(**SMALL))
    categorical, numeric, _ = batch(tiny_ranking_users)
    gate = model.personal_gate(model.embedding(categorical, numeric))
    assert gate is not None and gate.shape == (64, 16)
    assert torch.allclose(gate, torch.ones_like(gate), atol=1e-6)
    _train(model, tiny_ranking_users, steps=5)
    moved = model.personal_gate(model.embedding(categorical, numeric))
    assert not torch.allclose(moved, torch.ones_like(moved), atol=1e-6)
    without = build_ranker("drgrad", tiny_ranking.schema, RankerConfig(**SMALL))
    assert without.personal is None


def _reference_router_grads(model, categorical, numeric, labels) -> dict[str, torch.Tensor]:
    """The router as first written: each task's gradient on the shared experts' output O
    by its own autograd.grad, flattened per sample, then ``route``; gradients summed."""
    embedded = model.embedding(categorical, numeric)
    x, experts, dedicated = model.bottom(embedded, categorical)
    logits, inputs = model.top(x, experts, dedicated)
    losses = model.task_losses(logits, labels)
    on_shared, on_inputs = [], []
    for t, loss in enumerate(losses):
        shared, own = torch.autograd.grad(loss, [experts, inputs[t]], retain_graph=True)
        if model.config.route_granularity == "batch":  # the batch's gradient, every sample's
            shared = shared.sum(0, keepdim=True).expand_as(shared)
        on_shared.append(shared.flatten(1))
        on_inputs.append(own)
    routed, _ = route(
        on_shared[0],
        torch.stack(on_shared[1:]),
        torch.stack(on_inputs[1:]),
        model.config.route_threshold,
        model.config.route_clip,
    )
    scaled = routed * model.config.route_scale
    total = sum(losses) + model.regularization() + (scaled * dedicated).sum()
    total.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize(
    "gate,scale,granularity",
    [
        (False, 1.0, "sample"),
        (True, 1.0, "sample"),
        (False, 0.25, "sample"),
        (False, 1.0, "batch"),
        (True, 0.25, "batch"),
    ],
)
def test_one_pass_router_gives_the_per_task_router_gradients(
    tiny_ranking_users, gate, scale, granularity
):
    config = RankerConfig(
        **SMALL,
        updater=False,
        personal_gate=gate,
        route_clip=0.5,
        route_scale=scale,
        route_granularity=granularity,
    )
    torch.manual_seed(11)
    model = build_ranker("drgrad", tiny_ranking_users.schema, config)
    if gate:  # a gate away from its start, so it weighs the experts unevenly
        torch.nn.init.normal_(model.personal[-1].weight, std=0.5)
    categorical, numeric, labels = batch(tiny_ranking_users)
    expected = _reference_router_grads(model, categorical, numeric, labels)
    model.zero_grad(set_to_none=True)
    model.backward(categorical, numeric, labels, epoch=1)
    if granularity == "sample":
        assert 0 < model.last_cooperation < 1  # both branches of the router are exercised
    else:  # one decision for the batch: here its auxiliary task cooperates
        assert model.last_cooperation == 1.0
    for name, param in model.named_parameters():
        assert torch.allclose(param.grad, expected[name], atol=1e-6, rtol=1e-4), name


def test_router_step_needs_no_per_task_autograd_grad(tiny_ranking, monkeypatch):
    """The router's cost: one backward pass, no per-task autograd.grad calls."""

    def refuse(*args, **kwargs):
        raise AssertionError("autograd.grad called in DRGrad's step")

    model = build_ranker("drgrad", tiny_ranking.schema, RankerConfig(**SMALL))
    monkeypatch.setattr(torch.autograd, "grad", refuse)
    model.backward(*batch(tiny_ranking), epoch=1)
    assert all(p.grad is not None for p in model.experts.parameters())


def test_rank_one_router_equals_the_router_on_outer_products():
    generator = torch.Generator().manual_seed(0)
    batch_size, experts, width, aux = 64, 5, 7, 2
    gates = torch.softmax(torch.randn(aux + 1, batch_size, experts, generator=generator), dim=2)
    grads = torch.randn(aux + 1, batch_size, width, generator=generator)
    outer = (gates.unsqueeze(-1) * grads.unsqueeze(-2)).flatten(2)
    expected = route(outer[0], outer[1:], grads[1:], threshold=0.1, clip=0.6)
    got = route_rank_one(gates[0], grads[0], gates[1:], grads[1:], threshold=0.1, clip=0.6)
    assert (expected[1] > 0).any() and (expected[1] == 0).any()
    assert torch.allclose(got[1], expected[1], atol=1e-6)
    assert torch.allclose(got[0], expected[0], atol=1e-5)


def test_route_scale_enters_the_config_record_only_off_its_default():
    """Runs recorded before ``route_scale`` existed keep their keys; a scaled run has its own."""
    assert "route_scale" not in RankerConfig().to_dict()
    scaled = RankerConfig(route_scale=0.3)
    assert scaled.to_dict()["route_scale"] == 0.3
    assert RankerConfig.from_dict(scaled.to_dict()) == scaled
    assert RankerConfig.from_dict(RankerConfig().to_dict()).route_scale == 1.0


def test_batch_router_decides_once_for_the_batch():
    """Sample 0's auxiliary gradient agrees with the primary's, sample 1's conflicts; summed
    over the batch they agree (cos 0.71), so both samples get 0.71 times their own auxiliary
    input gradient; with the other sign on sample 1's primary gradient, the batch conflicts
    and nothing is routed."""
    gates = torch.ones(1, 2, 1)  # one expert: the shared-layer gradient is the input gradient
    primary = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    auxiliary = torch.tensor([[[1.0, 0.0], [-0.2, 0.8]]])
    routed, coefficients = route_batch(gates[0], primary, gates, auxiliary, 0.0, 1.0)
    summed = torch.tensor([0.8, 0.8])
    expected = float(summed[0] / summed.norm())
    assert coefficients.shape == (1,)
    assert coefficients[0] == pytest.approx(expected)
    assert torch.allclose(routed, expected * auxiliary[0])
    per_sample, _ = route_rank_one(gates[0], primary, gates, auxiliary, 0.0, 1.0)
    assert torch.equal(per_sample[1], torch.zeros(2))  # the per-sample router drops sample 1
    against = torch.tensor([[-1.0, 0.0], [-1.0, 0.0]])
    routed, coefficients = route_batch(gates[0], against, gates, auxiliary, 0.0, 1.0)
    assert coefficients[0] == 0.0
    assert torch.equal(routed, torch.zeros_like(routed))


def test_route_granularity_is_checked_and_keyed_only_off_its_default(tiny_ranking):
    """The batch router is the default (absent from run keys); per-sample runs, recorded
    before the option existed, carry "sample" in theirs."""
    with pytest.raises(ValueError, match="route_granularity"):
        build_ranker("drgrad", tiny_ranking.schema, RankerConfig(route_granularity="user"))
    assert RankerConfig().route_granularity == "batch"
    assert "route_granularity" not in RankerConfig().to_dict()
    per_sample = RankerConfig(route_granularity="sample")
    assert per_sample.to_dict()["route_granularity"] == "sample"
    assert RankerConfig.from_dict(per_sample.to_dict()) == per_sample
