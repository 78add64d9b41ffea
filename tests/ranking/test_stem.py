"""STEM-Net's All Forward, Task-specific Backward gates."""

from __future__ import annotations

import torch

from tests.ranking.conftest import batch
from trainer.ranking.models import RankerConfig, build_ranker


def test_aftb_task_loss_reaches_only_shared_and_own_parameters(tiny_ranking):
    config = RankerConfig(dim=4, expert_dims=(8,), tower_dims=(4,), shared_experts=2)
    model = build_ranker("stem", tiny_ranking.schema, config)
    categorical, numeric, labels = batch(tiny_ranking)
    losses = model.task_losses(model(categorical, numeric), labels)
    dim, tasks = config.dim, 2
    for t in range(tasks):
        other = 1 - t
        params = [model.embedding.table, model.embedding.numeric_vectors]
        params += list(model.specific[other].parameters()) + list(model.specific[t].parameters())
        params += list(model.shared.parameters())
        grads = torch.autograd.grad(losses[t], params, retain_graph=True, allow_unused=True)
        table, vectors = grads[0], grads[1]
        n_spec = len(list(model.specific[other].parameters()))
        other_expert = grads[2 : 2 + n_spec]
        own_expert = grads[2 + n_spec : 2 + 2 * n_spec]
        shared_expert = grads[2 + 2 * n_spec :]
        for g in (table, vectors):
            # Chunk layout per feature: task 0, task 1, shared.
            assert torch.equal(g[:, other * dim : (other + 1) * dim], torch.zeros_like(g[:, :dim]))
            assert g[:, t * dim : (t + 1) * dim].abs().sum() > 0
            assert g[:, tasks * dim :].abs().sum() > 0
        assert all(g is None or not g.any() for g in other_expert)
        assert all(g is not None and g.abs().sum() > 0 for g in own_expert)
        assert all(g is not None and g.abs().sum() > 0 for g in shared_expert)


def test_other_tasks_specific_experts_still_feed_every_gate_forward(tiny_ranking):
    """All forward: changing task 1's specific expert changes task 0's prediction."""
    model = build_ranker("stem", tiny_ranking.schema, RankerConfig(dim=4, expert_dims=(8,)))
    categorical, numeric, _ = batch(tiny_ranking)
    before = model(categorical, numeric)[:, 0].detach().clone()
    with torch.no_grad():
        model.specific[1].biases[0].add_(1.0)
    after = model(categorical, numeric)[:, 0]
    assert not torch.allclose(before, after)


def test_chunked_lookup_equals_cutting_whole_rows_and_skips_them(tiny_ranking, monkeypatch):
    """STEM-Net looks each chunk up from the table's strided view (its speed: no copy of
    every chunk out of whole looked-up rows) and adds the numeric features through
    ``numeric @ numeric_weights`` without forming their chunks; the logits and every
    parameter's gradient (the numeric vectors' included) are those of cutting the whole rows
    into chunks."""
    config = RankerConfig(dim=4, expert_dims=(8,), tower_dims=(4,), shared_experts=2)
    torch.manual_seed(2)
    model = build_ranker("stem", tiny_ranking.schema, config)
    assert tiny_ranking.schema.numeric
    categorical, numeric, _ = batch(tiny_ranking)
    params = list(model.parameters())
    whole = model.head(model.embedding(categorical, numeric), categorical)
    expected = torch.autograd.grad(whole.sum(), params, allow_unused=True)

    def refuse(*args, **kwargs):
        raise AssertionError("whole embedding rows looked up")

    monkeypatch.setattr(type(model.embedding), "forward", refuse)
    monkeypatch.setattr(type(model.embedding), "combine", refuse)
    chunked = model(categorical, numeric)
    assert torch.allclose(chunked, whole, atol=1e-6)
    got = torch.autograd.grad(chunked.sum(), params, allow_unused=True)
    assert expected[1] is not None and expected[1].abs().sum() > 0  # the numeric vectors
    for g, w in zip(got, expected):
        assert (g is None) == (w is None)
        if g is not None:
            assert torch.allclose(g, w, atol=1e-6)


def test_fused_products_compute_the_experts_and_gates_of_the_definition(tiny_ranking):
    """The two fused first-layer products (a batched one over the tasks, one on the shared
    chunk) give the logits and gradients of evaluating every expert bank on its own chunk
    and gate t as softmax(Linear(x_t + x_s)), with the other tasks' experts detached."""
    config = RankerConfig(dim=4, expert_dims=(8, 6), tower_dims=(4,), shared_experts=2)
    torch.manual_seed(3)
    model = build_ranker("stem", tiny_ranking.schema, config)
    categorical, numeric, _ = batch(tiny_ranking)
    task_inputs, shared_input = model.chunk_inputs(categorical, numeric)
    specific = [bank(x) for bank, x in zip(model.specific, task_inputs)]
    shared = model.shared(shared_input)
    expected = []
    for t, (gate, tower) in enumerate(zip(model.gates, model.towers)):
        visible = [own if u == t else own.detach() for u, own in enumerate(specific)]
        weights = torch.softmax(gate(task_inputs[t] + shared_input), dim=1)
        mixed = (weights.unsqueeze(-1) * torch.cat([*visible, shared], dim=1)).sum(dim=1)
        expected.append(tower(mixed))
    expected = torch.cat(expected, dim=1)
    fused = model(categorical, numeric)
    assert torch.allclose(fused, expected, atol=1e-6)
    params = list(model.parameters())
    for t in range(2):
        want = torch.autograd.grad(expected[:, t].sum(), params, retain_graph=True)
        got = torch.autograd.grad(fused[:, t].sum(), params, retain_graph=True)
        for g, w in zip(got, want):
            assert torch.allclose(g, w, atol=1e-6)
